package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sealpost/sealpost/internal/browsertest"
)

// axeSource is axe-core, installed by scripts/deps.sh into testdata/axe; "" without it.
func axeSource(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SEALPOST_REQUIRE_BROWSER") != "" {
			t.Fatalf("axe-core is missing (%v): run scripts/deps.sh", err)
		}
		t.Log("axe-core not installed: accessibility checks skipped; run scripts/deps.sh")
		return ""
	}
	return string(b)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// checkAxe runs axe-core (WCAG 2.2 A and AA rules) on the page and fails on any
// serious or critical violation. DevTools evaluation is not bound by the page's CSP,
// so the page keeps its policy while it is checked.
func checkAxe(t *testing.T, b *browsertest.Browser, src, page string) {
	t.Helper()
	if src == "" {
		return
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}).then(r => r.violations)`
	if _, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("%s: loading axe: %v", page, err)
	}
	vs, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[[]axeViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", page, err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, strings.Join(n.Target, " "))
			}
			t.Errorf("%s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, where)
		}
	}
}

// press sends one key to the focused element, as a keyboard would.
func press(t *testing.T, b *browsertest.Browser, key string) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx(), chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
}

// typeText types into the focused element.
func typeText(t *testing.T, b *browsertest.Browser, s string) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx(), chromedp.KeyEvent(s)); err != nil {
		t.Fatalf("typing: %v", err)
	}
}

// focused describes the focused element: its id, or its tag and text.
func focused(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	v, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e ? (e.id || e.tagName.toLowerCase() + ":" + (e.innerText || e.value || "").trim()) : ""; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tabTo presses Tab until the focused element is want (by focused's description),
// at most limit times, and fails otherwise: the element is reachable by keyboard.
func tabTo(t *testing.T, b *browsertest.Browser, want string, limit int) {
	t.Helper()
	var seen []string
	if f := focused(t, b); f == want || strings.HasPrefix(f, want) {
		return
	}
	for range limit {
		press(t, b, kb.Tab)
		f := focused(t, b)
		if f == want || strings.HasPrefix(f, want) {
			return
		}
		seen = append(seen, f)
	}
	t.Fatalf("%q not reached by Tab; focus went %v", want, seen)
}

// enter presses Enter and waits for the page it loads.
func enter(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	before := b.Location()
	press(t, b, kb.Enter)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ready, _ := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`document.readyState`)); ready == "complete" && b.Location() != before {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
