package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sealpost/sealpost/internal/browsertest"
)

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

// enter presses Enter and waits for the page it loads. The page is told apart by a
// mark left on the one before, not by its address: a form that posts and is sent
// back to the same address (revoking a message) loads a new page at the old one.
func enter(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[bool](`window.__beforeEnter = true`)); err != nil {
		t.Fatalf("marking the page: %v", err)
	}
	press(t, b, kb.Enter)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if loaded, _ := chromedp.Run(b.Ctx(), chromedp.Evaluate[bool](`document.readyState === "complete" && window.__beforeEnter === undefined`)); loaded {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("Enter loaded no new page within 15 s (still at %s)", b.Location())
}
