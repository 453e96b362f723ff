package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func render(t *testing.T, src string, data map[string]any, mode Mode) (string, error) {
	t.Helper()
	tmpl, err := Parse("t", src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, data, mode)
	return buf.String(), err
}

func TestExecute(t *testing.T) {
	data := map[string]any{
		"name":    "Ana",
		"clinic":  "North",
		"patient": map[string]any{"first_name": "Zoë", "address": map[string]any{"city": "Lyon"}},
		"items":   []any{map[string]any{"name": "a"}, map[string]any{"name": "b", "clinic": "South"}},
		"tags":    []string{"x", "y"},
		"empty":   []any{},
		"yes":     true, "no": false, "nothing": nil, "blank": "", "zero": 0.0, "jzero": json.Number("0"),
		"int": 42, "float": 3.0, "frac": 2.5, "neg": math.Copysign(0, -1), "big": 1e21, "tiny": 1e-7,
		"jint": json.Number("12345678901234567890"), "jfive": json.Number("5.00"), "jexp": json.Number("1.0e5"),
		"strmap": map[string]string{"k": "v"},
		"doctor": map[string]any{"name": "Dr. Who"},
	}
	tests := []struct{ name, src, want string }{
		{"text only", "plain text", "plain text"},
		{"variable", "Hello {{name}}!", "Hello Ana!"},
		{"whitespace in braces", "Hello {{   name \t }}!", "Hello Ana!"},
		{"dotted", "{{ patient.first_name }} in {{patient.address.city}}", "Zoë in Lyon"},
		{"comment", "a{{! hidden {{ stuff }}b", "ab"},
		{"multi-line comment", "a{{! one\ntwo }}b", "ab"},
		{"list of maps", "{{#items}}<{{name}}>{{/items}}", "<a><b>"},
		{"list of strings", "{{# tags }}[{{ . }}]{{/ tags }}", "[x][y]"},
		{"outer fallback", "{{#items}}{{name}}@{{clinic}} {{/items}}", "a@North b@South "},
		{"outer dotted", "{{#items}}{{patient.first_name}}{{/items}}", "ZoëZoë"},
		{"map section", "{{#doctor}}{{name}} for {{patient.first_name}}{{/doctor}}", "Dr. Who for Zoë"},
		{"string map", "{{strmap.k}}{{#strmap}}{{k}}{{/strmap}}", "vv"},
		{"true section", "{{#yes}}shown {{.}}{{/yes}}", "shown true"},
		{"false section", "{{#no}}hidden{{/no}}", ""},
		{"nil section", "{{#nothing}}hidden{{/nothing}}", ""},
		{"blank section", "{{#blank}}hidden{{/blank}}", ""},
		{"zero section", "{{#zero}}hidden{{/zero}}{{#jzero}}hidden{{/jzero}}", ""},
		{"value section", "{{#name}}is {{.}}{{/name}}", "is Ana"},
		{"empty list", "{{#empty}}hidden{{/empty}}", ""},
		{"inverted empty", "{{^empty}}none{{/empty}}", "none"},
		{"inverted false", "{{^no}}no{{/no}}{{^nothing}}nil{{/nothing}}{{^blank}}blank{{/blank}}", "nonilblank"},
		{"inverted truthy", "{{^items}}none{{/items}}{{^yes}}x{{/yes}}", ""},
		{"nested sections", "{{#items}}{{#tags}}{{name}}{{.}} {{/tags}}{{/items}}", "ax ay bx by "},
		{"numbers", "{{int}} {{float}} {{frac}} {{neg}} {{big}} {{tiny}}", "42 3 2.5 0 1e+21 1e-07"},
		{"json numbers", "{{jint}} {{jfive}} {{jexp}} {{jzero}}", "12345678901234567890 5 1.0e5 0"},
		{"bools and nil", "{{yes}} {{no}} [{{nothing}}]", "true false []"},
		{"standalone", "Hi\n{{#yes}}\n  line\n{{/yes}}\n{{! note }}\nbye\n", "Hi\n  line\nbye\n"},
		{"standalone indented crlf", "a\r\n  {{#items}}  \r\n-{{name}}\r\n  {{/items}}\r\nz", "a\r\n-a\r\n-b\r\nz"},
		{"standalone at end", "a\n{{#no}}\nx\n{{/no}}", "a\n"},
		{"two tags on a line", "a\n{{#no}}x{{/no}}\nb", "a\n\nb"},
		{"not standalone", "a {{#yes}}\nb{{/yes}} c", "a \nb c"},
		{"lone braces", "{ } }} {", "{ } }} {"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render(t, tt.src, data, Text)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTMLEscaping(t *testing.T) {
	data := map[string]any{"x": `<script>alert("1")</script> & 'q'`}
	src := `<p title="{{x}}">{{ x }}</p>{{{ x }}}{{& x}}`
	got, err := render(t, src, data, HTML)
	if err != nil {
		t.Fatal(err)
	}
	esc := "&lt;script&gt;alert(&#34;1&#34;)&lt;/script&gt; &amp; &#39;q&#39;"
	want := `<p title="` + esc + `">` + esc + `</p>` + data["x"].(string) + data["x"].(string)
	if got != want {
		t.Errorf("HTML:\n got %s\nwant %s", got, want)
	}
	got, _ = render(t, "{{x}}", data, Text)
	if got != data["x"] {
		t.Errorf("Text mode escaped: %s", got)
	}
}

func TestMissing(t *testing.T) {
	data := map[string]any{
		"patient": map[string]any{"last_name": "Doe"},
		"label":   "text",
		"items":   []any{map[string]any{"a": 1}},
	}
	for src, variable := range map[string]string{
		"Hi {{ patient.first_name }}":       "patient.first_name",
		"{{doctor}}":                        "doctor",
		"{{doctor.name}}":                   "doctor.name",
		"{{label.length}}":                  "label.length",
		"{{#absent}}x{{/absent}}":           "absent",
		"{{^absent}}x{{/absent}}":           "absent",
		"{{#items}}{{b}}{{/items}}":         "b",
		"{{#items}}{{patient.x}}{{/items}}": "patient.x",
	} {
		got, err := render(t, src, data, Text)
		var me *MissingError
		if !errors.As(err, &me) || me.Variable != variable || me.Template != "t" {
			t.Errorf("%s: error %v, want missing %q", src, err, variable)
		}
		if got != "" {
			t.Errorf("%s: wrote %q despite the error", src, got)
		}
	}
}

func TestTypeErrors(t *testing.T) {
	data := map[string]any{"list": []any{1}, "map": map[string]any{}, "fn": func() {}, "ptr": new(int)}
	for _, src := range []string{"{{list}}", "{{map}}", "{{fn}}", "{{#fn}}x{{/fn}}", "{{{ptr}}}"} {
		var te *TypeError
		if _, err := render(t, src, data, HTML); !errors.As(err, &te) {
			t.Errorf("%s: error %v, want a TypeError", src, err)
		}
	}
}

func TestOutputLimit(t *testing.T) {
	items := make([]any, 11)
	data := map[string]any{"items": items, "big": strings.Repeat("x", 1<<20)}
	got, err := render(t, "{{#items}}{{big}}{{/items}}", data, Text)
	var le *LimitError
	if !errors.As(err, &le) || got != "" {
		t.Errorf("error %v with %d bytes written, want a LimitError and nothing", err, len(got))
	}
	data["items"] = items[:10]
	if _, err := render(t, "{{#items}}{{big}}{{/items}}", data, Text); err != nil {
		t.Errorf("10 MiB minus a bit: %v", err)
	}
}

func TestStepLimit(t *testing.T) {
	data := map[string]any{"l": make([]any, 1000)}
	_, err := render(t, "{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}", data, Text)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Errorf("error %v, want a LimitError", err)
	}
}

func TestConcurrentExecute(t *testing.T) {
	tmpl, err := Parse("t", "{{#items}}{{name}} {{/items}}")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var buf bytes.Buffer
			data := map[string]any{"items": []any{map[string]any{"name": i}}}
			if err := tmpl.Execute(&buf, data, HTML); err != nil || buf.Len() == 0 {
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

func TestEveryMissingVariableIsReported(t *testing.T) {
	data := map[string]any{"items": []any{map[string]any{"a": 1}, map[string]any{"a": 2}}}
	_, err := render(t, "{{first}} {{#items}}{{b}}{{a}}{{/items}} {{#absent}}{{inner}}{{/absent}} {{first}} {{last.name}}", data, Text)
	var me *MissingError
	if !errors.As(err, &me) || !slices.Equal(me.Variables, []string{"first", "b", "absent", "last.name"}) || me.Variable != "first" {
		t.Fatalf("got %v", err)
	}
	if want := `template t: missing variables "first", "b", "absent", "last.name"`; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}
