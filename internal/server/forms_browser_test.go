package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// formFocus is the id (or tag name) of the focused element.
func formFocus(b *browsertest.Browser) string {
	var s string
	b.Run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		s, err = chromedp.Evaluate[string](`document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ""`)(ctx, tg)
		return err
	}))
	return s
}

// formTabTo presses Tab until the element with id (or tag) has the focus.
func formTabTo(t *testing.T, b *browsertest.Browser, id string) {
	t.Helper()
	for range 30 {
		if formFocus(b) == id {
			return
		}
		b.Run(chromedp.KeyEvent(kb.Tab))
	}
	t.Fatalf("Tab never reached %s (focus on %s)", id, formFocus(b))
}

func typeKeys(b *browsertest.Browser, s string) { b.Run(chromedp.KeyEvent(s)) }

// TestFormInBrowser fills a form in Chromium with the keyboard alone (but for choosing
// the file, which is the operating system's dialog), with JavaScript off and on:
// errors beside their fields and in a summary, axe-core finding no serious violation,
// and the organisation's mailbox receiving the file byte-identical over verified TLS.
func TestFormInBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	def := intakeForm()
	def["fields"] = []map[string]any{
		{"name": "full_name", "label": "Full name", "type": "text", "required": true},
		{"name": "email", "label": "Email", "type": "email", "required": true, "help": "We reply to this address."},
		{"name": "born", "label": "Date of birth", "type": "date", "required": true},
		{"name": "visit", "label": "Visit type", "type": "choice", "options": []string{"In person", "Video"}, "required": true},
		{"name": "agree", "label": "I confirm these answers are mine", "type": "checkbox", "required": true},
		{"name": "referral", "label": "Referral letter", "type": "file", "accept": []string{"application/pdf"}, "max_bytes": 1 << 20},
	}
	s, out := e.do("POST", "/v1/forms", e.key, def)
	if s != 201 {
		t.Fatalf("create: %d %v", s, out)
	}
	link := out["url"].(string)
	dir := shots(t)

	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) {
			b := browsertest.Start(t)
			if _, err := chromedp.Call(b.Ctx(), emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !js}); err != nil {
				t.Fatal(err)
			}
			pdf := append([]byte("%PDF-1.4\n"+rand.Text()+"\n"), make([]byte, 64<<10)...)
			rand.Read(pdf[64:])
			file := filepath.Join(t.TempDir(), "referral.pdf")
			if err := os.WriteFile(file, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			b.Navigate(link)
			if js {
				browsertest.CheckAxe(t, b, browsertest.AxeSource(t), "the form")
			}
			b.Screenshot(filepath.Join(dir, "form-"+name+".png"))
			time.Sleep(1100 * time.Millisecond) // the form's time to fill
			// Sent empty, by keyboard: every error beside its field and in the summary.
			formTabTo(t, b, "BUTTON")
			typeKeys(b, kb.Enter)
			waitFor(t, b, "#error-summary")
			summary := b.Text("#error-summary")
			for _, f := range []string{"Full name", "Email", "Date of birth", "Visit type", "I confirm"} {
				if !strings.Contains(summary, f) {
					t.Fatalf("summary lacks %s:\n%s", f, summary)
				}
			}
			for _, id := range []string{"f-full_name", "f-email", "f-born", "f-visit", "f-agree"} {
				if b.Text("#"+id+"-error") == "" {
					t.Fatalf("no error beside %s", id)
				}
			}
			if js {
				browsertest.CheckAxe(t, b, browsertest.AxeSource(t), "the error page")
			}
			b.Screenshot(filepath.Join(dir, "form-errors-"+name+".png"))

			// Completed with the keyboard.
			canary := "Pat" + rand.Text()[:10]
			formTabTo(t, b, "f-full_name")
			typeKeys(b, canary)
			formTabTo(t, b, "f-email")
			typeKeys(b, "pat@patient.example")
			formTabTo(t, b, "f-born")
			typeKeys(b, "04231980")
			formTabTo(t, b, "f-visit")
			typeKeys(b, "V")
			formTabTo(t, b, "f-agree")
			typeKeys(b, " ")
			formTabTo(t, b, "f-referral")
			b.SetFiles("#f-referral", file)
			time.Sleep(1100 * time.Millisecond)
			formTabTo(t, b, "BUTTON")
			typeKeys(b, kb.Enter)
			waitFor(t, b, "#confirmation")
			if !strings.Contains(b.Location(), "/thanks") {
				t.Fatalf("after sending: %s\n%s", b.Location(), b.Text("body"))
			}
			if js {
				browsertest.CheckAxe(t, b, browsertest.AxeSource(t), "the confirmation")
			}
			b.Screenshot(filepath.Join(dir, "form-sent-"+name+".png"))

			// The organisation's mailbox: the file byte-identical, over verified TLS.
			deadline := time.Now().Add(20 * time.Second)
			for {
				for _, m := range e.rcv.Messages() {
					mv, err := view.Parse(m.Data, view.Limits{})
					if err != nil || !strings.Contains(mv.Text, canary) {
						continue
					}
					if m.TLS == nil || !strings.Contains(mv.Text, "1980-04-23") || !strings.Contains(mv.Text, "Video") {
						t.Fatalf("delivered without TLS or with wrong values:\n%s", mv.Text)
					}
					for _, a := range mv.Attachments {
						if a.Filename == "referral.pdf" && bytes.Equal(a.Data, pdf) {
							return
						}
					}
					t.Fatal("the delivered file differs from the chosen one")
				}
				if time.Now().After(deadline) {
					t.Fatal("the submission never reached the mailbox")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// waitFor waits for an element, showing the page if it never comes.
func waitFor(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if b.Text(sel) != "" {
			return
		}
	}
	t.Fatalf("no %s at %s:\n%s", sel, b.Location(), b.Text("body"))
}
