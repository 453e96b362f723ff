package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// focused describes the element that has keyboard focus.
func focused(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx(), 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + " " + (e.id || e.getAttribute("name") || "") + " " + (e.innerText || "").trim() : ""; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tabTo presses Tab until the focused element's description contains want.
func tabTo(t *testing.T, b *browsertest.Browser, want string) []string {
	t.Helper()
	var seen []string
	for range 12 {
		b.Run(chromedp.KeyEvent(kb.Tab))
		f := focused(t, b)
		seen = append(seen, f)
		if strings.Contains(f, want) {
			return seen
		}
	}
	t.Fatalf("Tab never reached %q; focus went %q", want, seen)
	return nil
}

// TestPortalKeyboard signs in and reads a message with the keyboard alone: Tab to
// each control, type, Enter to submit. The first Tab lands on the skip link.
func TestPortalKeyboard(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), nil)
	b := browsertest.Start(t)
	const rcpt = "keys@plain.example"
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
	b.Navigate(link)
	seen := tabTo(t, b, "Email me a code")
	if !strings.Contains(seen[0], "Skip to content") {
		t.Errorf("first Tab focused %q, want the skip link", seen[0])
	}
	before := len(mailTo(pe.plain, rcpt, "access code is"))
	b.Run(chromedp.KeyEvent(kb.Enter))
	code := pe.code(rcpt, before)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(strings.SplitN(b.Location(), "?", 2)[0], "/code") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	tabTo(t, b, "input code")
	b.Run(chromedp.KeyEvent(code + kb.Enter))
	for !strings.HasSuffix(b.Location(), "/m") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(b.Text("main"), "potassium is 4.1") {
		t.Fatalf("keyboard sign-in did not open the message: %s\n%s", b.Location(), b.Text("body"))
	}
	tabTo(t, b, "report.pdf")
	tabTo(t, b, "textarea reply-body")
}
