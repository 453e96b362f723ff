package browsertest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeSource is axe-core, installed by scripts/deps.sh into this package's
// testdata/axe (one copy for every browser test); "" when it is missing outside CI.
func AxeSource(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
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

// CheckAxe runs axe-core (src, from AxeSource; "" skips) with the WCAG 2.2 A and AA
// rules on the current page and fails the test on any serious or critical violation.
// DevTools evaluation is not bound by the page's CSP, so the page keeps its policy
// while it is checked.
func CheckAxe(t testing.TB, b *Browser, src, page string) {
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
