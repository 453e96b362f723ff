package render

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		detail    string
	}{
		{"unclosed tag", "Hello\n  {{ name", 2, 3, "unclosed tag"},
		{"unclosed triple", "{{{ name }}", 1, 1, "unclosed tag"},
		{"unclosed comment", "a {{! note", 1, 3, "unclosed tag"},
		{"mismatched section", "{{#a}}\n x {{/b}}", 2, 4, `closing tag for "b" does not match open section "a"`},
		{"mismatched nested", "{{#a}}{{^b}}{{/a}}{{/b}}", 1, 13, "does not match"},
		{"unclosed section", "line\nab {{# items }} x", 2, 4, `unclosed section "items"`},
		{"unexpected close", "x\n{{/a}}", 2, 1, "has no open section"},
		{"empty tag", "a {{ }}", 1, 3, "empty tag"},
		{"empty section", "{{#}}{{/}}", 1, 1, "empty tag"},
		{"space in name", "{{a b}}", 1, 1, "invalid variable name"},
		{"double dot", "{{a..b}}", 1, 1, "invalid variable name"},
		{"trailing dot", "{{a.}}", 1, 1, "invalid variable name"},
		{"braces in name", "{{{{x}}}}", 1, 1, "invalid variable name"},
		{"partial", "{{> header}}", 1, 1, "unsupported tag"},
		{"delimiters", "{{=<% %>=}}", 1, 1, "unsupported tag"},
		{"columns count characters", "éé {{", 1, 4, "unclosed tag"},
		{"invalid utf-8", "ok\nab\xff", 2, 3, "invalid UTF-8"},
	}
	for _, tt := range tests {
		_, err := Parse("welcome", tt.src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v, want a SyntaxError", tt.name, err)
			continue
		}
		if se.Template != "welcome" || se.Line != tt.line || se.Col != tt.col || !strings.Contains(se.Detail, tt.detail) {
			t.Errorf("%s: got %s:%d:%d %q, want line %d col %d %q", tt.name, se.Template, se.Line, se.Col, se.Detail, tt.line, tt.col, tt.detail)
		}
	}
}

func TestNestingLimit(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("{{#a}}", n) + "x" + strings.Repeat("{{/a}}", n)
	}
	if _, err := Parse("t", nest(20)); err != nil {
		t.Errorf("20 levels: %v", err)
	}
	_, err := Parse("t", nest(21))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Col != 1+20*len("{{#a}}") {
		t.Errorf("21 levels: %v", err)
	}
}

func TestSourceLimit(t *testing.T) {
	if _, err := Parse("t", strings.Repeat("x", 512<<10)); err != nil {
		t.Errorf("512 KiB: %v", err)
	}
	_, err := Parse("t", strings.Repeat("x", 512<<10+1))
	var le *LimitError
	if !errors.As(err, &le) {
		t.Errorf("over 512 KiB: %v", err)
	}
}

func TestVariables(t *testing.T) {
	tmpl, err := Parse("t", "{{a}} {{{b.c}}} {{#items}}{{.}}{{name}}{{a}}{{/items}}{{^d}}{{/d}}{{! e }}{{&f}}")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b.c", "items", "name", "d", "f"}
	got := tmpl.Variables()
	if !slices.Equal(got, want) {
		t.Errorf("Variables() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if tmpl.Variables()[0] != "a" {
		t.Error("Variables exposes internal state")
	}
	if tmpl.Name() != "t" {
		t.Errorf("Name() = %q", tmpl.Name())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Hello {{name}}", "{{#items}}{{.}}{{/items}}", "{{^a}}x{{/a}}", "{{{raw}}}", "{{! c }}",
		"{{a.b.c}}", "{{#a}}\n{{/a}}\n", "{{", "{{{x}}", "{{#a}}{{/b}}", "{{/a}}", "{{&x}}", "é{{ x }}",
	} {
		f.Add(s)
	}
	data := map[string]any{
		"name": "<b>", "a": map[string]any{"b": map[string]any{"c": 1.5}}, "items": []any{"x", 2.0, true, nil},
		"x": json.Number("7.0"), "raw": "'", "e": []any{}, "m": map[string]any{"name": "n"},
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse("fuzz", src)
		if err != nil {
			var se *SyntaxError
			var le *LimitError
			if !errors.As(err, &se) && !errors.As(err, &le) {
				t.Fatalf("unexpected error type %T", err)
			}
			if se != nil && (se.Line < 1 || se.Col < 1) {
				t.Fatalf("bad position %d:%d", se.Line, se.Col)
			}
			return
		}
		_ = tmpl.Variables()
		for _, mode := range []Mode{Text, HTML} {
			_ = tmpl.Execute(io.Discard, data, mode)
			_ = tmpl.Execute(io.Discard, nil, mode)
		}
	})
}
