package pages

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// customProps reads the --name: #hex declarations of the stylesheet.
func customProps(t *testing.T, css string) map[string]string {
	t.Helper()
	props := map[string]string{}
	re := regexp.MustCompile(`(--[a-z-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;`)
	for _, m := range re.FindAllStringSubmatch(css, -1) {
		props[m[1]] = strings.ToLower(m[2])
	}
	if len(props) == 0 {
		t.Fatal("stylesheet declares no colours")
	}
	return props
}

func luminance(hex string) (float64, error) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, fmt.Errorf("bad colour %q", hex)
	}
	var lin [3]float64
	for i := range lin {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return 0, fmt.Errorf("bad colour %q: %w", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.03928 {
			lin[i] = c / 12.92
		} else {
			lin[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*lin[0] + 0.7152*lin[1] + 0.0722*lin[2], nil
}

func contrast(a, b string) (float64, error) {
	la, err := luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(b)
	if err != nil {
		return 0, err
	}
	hi, lo := max(la, lb), min(la, lb)
	return (hi + 0.05) / (lo + 0.05), nil
}

func TestContrastFormula(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#777777", "#ffffff", 4.48},
		{"#ffffff", "#ffffff", 1},
	} {
		got, err := contrast(c.a, c.b)
		if err != nil || math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.2f, %v; want %.2f", c.a, c.b, got, err, c.want)
		}
	}
}

func TestStylesheetContrast(t *testing.T) {
	css, _ := CSS()
	props := customProps(t, string(css))
	// Each pair is text on the background it is drawn on.
	pairs := [][2]string{
		{"--text", "--card-bg"},
		{"--text", "--page-bg"},
		{"--text", "--band-bg"},
		{"--text", "--code-bg"},
		{"--muted", "--card-bg"},
		{"--muted", "--page-bg"},
		{"--muted", "--code-bg"},
		{"--link", "--card-bg"},
		{"--link-hover", "--notice-bg"},
		{"--primary-text", "--primary-bg"},
		{"--primary-text", "--primary-hover-bg"},
		{"--secondary-text", "--secondary-bg"},
		{"--error-text", "--error-bg"},
		{"--notice-text", "--notice-bg"},
	}
	for _, p := range pairs {
		fg, bg := props[p[0]], props[p[1]]
		ratio, err := contrast(fg, bg)
		if err != nil {
			t.Errorf("%s on %s: %v", p[0], p[1], err)
			continue
		}
		if ratio < 4.5 {
			t.Errorf("%s (%s) on %s (%s): contrast %.2f < 4.5", p[0], fg, p[1], bg, ratio)
		}
	}
	// Focus rings and field borders are non-text: WCAG asks for 3:1.
	for _, p := range [][2]string{{"--focus", "--card-bg"}, {"--focus", "--page-bg"}, {"--input-border", "--card-bg"}} {
		if ratio, err := contrast(props[p[0]], props[p[1]]); err != nil || ratio < 3 {
			t.Errorf("%s on %s: contrast %.2f (%v) < 3", p[0], p[1], ratio, err)
		}
	}
	// The body and primary buttons must actually use the checked colours.
	for _, rule := range []string{"body {", ".btn-primary {"} {
		block := ruleBody(string(css), rule)
		if block == "" {
			t.Errorf("no %q rule", rule)
		}
		if !strings.Contains(block, "var(--") {
			t.Errorf("%q does not use the declared colours", rule)
		}
	}
	if !strings.Contains(ruleBody(string(css), "body {"), "color: var(--text)") || !strings.Contains(ruleBody(string(css), ".btn-primary {"), "background: var(--primary-bg)") {
		t.Error("body text or primary button not drawn with the checked colours")
	}
}

// ruleBody returns the declarations of the first rule starting with sel.
func ruleBody(css, sel string) string {
	i := strings.Index(css, "\n"+sel)
	if i < 0 {
		return ""
	}
	rest := css[i+len(sel)+1:]
	j := strings.Index(rest, "}")
	if j < 0 {
		return ""
	}
	return rest[:j]
}

func TestStylesheetRules(t *testing.T) {
	css, etag := CSS()
	s := string(css)
	if !strings.Contains(s, ":focus-visible") || !strings.Contains(ruleBody(s, ":focus-visible {"), "outline:") {
		t.Error("no :focus-visible outline rule")
	}
	if !strings.Contains(s, "white-space: pre-wrap") {
		t.Error("plain-text bodies do not keep their line breaks")
	}
	for _, banned := range []string{"@import", "url(", "expression("} {
		if strings.Contains(s, banned) {
			t.Errorf("stylesheet uses %s, which the CSP or offline use would break", banned)
		}
	}
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Errorf("ETag %q is not a strong quoted hash", etag)
	}
	again, etag2 := CSS()
	if etag2 != etag {
		t.Error("ETag not stable")
	}
	css[0] = 'X'
	if again[0] == 'X' {
		t.Error("CSS returns shared bytes a caller can change")
	}
}

// TestClassesAreStyled catches a class used in a template but missing from
// the stylesheet, which would leave that part of a page unstyled.
func TestClassesAreStyled(t *testing.T) {
	css, _ := CSS()
	for name, data := range samples() {
		_, doc := renderPage(t, data)
		for _, n := range elements(doc, "") {
			classes, _ := attr(n, "class")
			for _, c := range strings.Fields(classes) {
				if !regexp.MustCompile(`\.` + regexp.QuoteMeta(c) + `[\s{:,.]`).Match(css) {
					t.Errorf("%s: class %q has no rule", name, c)
				}
			}
		}
	}
}
