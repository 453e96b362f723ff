package server_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// shots is where the browser tests leave screenshots of each portal page:
// $SEALPOST_SCREENSHOTS (the README's images are made with docs/screenshots), else a
// temporary directory.
func shots(t *testing.T) string {
	if d := os.Getenv("SEALPOST_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

const letterHTML = `<h2 style="color:#1d4ed8">Your laboratory results</h2>
<p>Dear Pat,</p>
<p>Your results from <b>12 November</b> are ready. Patient SSN: 512-44-6789. Referring provider NPI 1234567893.</p>
<table style="border-collapse:collapse"><tr><th style="text-align:left;padding:4px 12px">Test</th><th style="text-align:left;padding:4px 12px">Result</th><th style="text-align:left;padding:4px 12px">Range</th></tr>
<tr><td style="padding:4px 12px">Potassium</td><td style="padding:4px 12px">4.1 mmol/L</td><td style="padding:4px 12px">3.5-5.1</td></tr>
<tr><td style="padding:4px 12px">Sodium</td><td style="padding:4px 12px">139 mmol/L</td><td style="padding:4px 12px">135-145</td></tr></table>
<p>The full report is attached. Reply here if you have questions.</p><p>Northside Lab</p>`

// TestPortalInBrowser drives the portal in Chromium the way a patient would: open the
// notice's link, ask for a code, read it from the mailbox, enter it, read the message,
// download the attachment and reply with a file. The sender's mailbox receives the
// reply over verified TLS. Screenshots of every page are taken on the way.
func TestPortalInBrowser(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), nil)
	b := browsertest.Start(t)
	// The whole flow runs with JavaScript switched off: the pages must not need it.
	if _, err := chromedp.Call(b.Ctx(), emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	dir := shots(t)
	shot := func(name string) { b.Screenshot(filepath.Join(dir, name)) }
	if s, out := pe.do("PUT", "/v1/portal/settings", pe.key, map[string]any{"display_name": "Northside Clinic",
		"logo": base64.StdEncoding.EncodeToString(logoPNG())}); s != 200 {
		t.Fatalf("settings: %d %v", s, out)
	}
	const rcpt = "pat@plain.example"
	msg := portalMessage(rcpt, map[string]any{"html": letterHTML})
	id, link := pe.sendPortal(rcpt, msg)

	b.Navigate(link)
	if !strings.Contains(b.Text("main"), "p•••@plain.example") || strings.Contains(b.HTML(), "Potassium") {
		t.Fatalf("landing:\n%s", b.Text("body"))
	}
	shot("portal-landing.png")
	before := len(mailTo(pe.plain, rcpt, "access code is"))
	b.Click(`form[action$="/code"] button`)
	code := pe.code(rcpt, before)
	shot("portal-code.png")

	// One wrong code first: the page says so and keeps the form.
	b.Fill("#code", "000000")
	b.Click(`form[action$="/verify"] button`)
	if !strings.Contains(b.Text("main"), "not valid") {
		t.Fatalf("wrong code page:\n%s", b.Text("body"))
	}
	shot("portal-wrong-code.png")
	b.Fill("#code", code)
	b.Click(`form[action$="/verify"] button`)
	if !strings.HasSuffix(b.Location(), "/m") || !strings.Contains(b.Text("main"), "Your results") {
		t.Fatalf("after the code: %s\n%s", b.Location(), b.Text("body"))
	}
	var session *network.Cookie
	for _, c := range b.Cookies(link) {
		if strings.HasPrefix(c.Name, "sp-") {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || !session.Secure || session.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("session cookie: %+v", session)
	}
	frames := strings.Join(b.Frames(), " ")
	if !strings.Contains(frames, "/m/body") {
		t.Fatalf("message body frame not loaded: %s", frames)
	}
	time.Sleep(300 * time.Millisecond) // let the frame paint for the screenshot
	shot("portal-message.png")
	b.ScreenshotAt(filepath.Join(dir, "portal-message-phone.png"), 390)

	data, name := b.Download(`a.file-link`)
	if !bytes.Equal(data, reportPDF) || name != "report.pdf" {
		t.Fatalf("download: %q, %d bytes", name, len(data))
	}

	upload := filepath.Join(t.TempDir(), "insurance-card.txt")
	os.WriteFile(upload, []byte("member id 55-1234"), 0o600)
	b.Fill("#reply-body", "Thank you. Is the potassium result normal?")
	b.SetFiles("#reply-files", upload)
	b.Click(`form[action$="/reply"] button`)
	if !strings.Contains(b.Text("main"), "sent securely") || !strings.Contains(b.Text("main"), "Is the potassium result normal?") {
		t.Fatalf("after reply:\n%s", b.Text("body"))
	}
	shot("portal-replied.png")
	reply := pe.waitMail(pe.clinic, "lab@clinic.example", "Is the potassium result normal?", 0)
	if !strings.Contains(reply, "pat@plain.example") {
		t.Errorf("reply text:\n%s", reply)
	}
	var viaTLS, hasFile bool
	for _, r := range pe.clinic.Messages() {
		if bytes.Contains(r.Data, []byte("insurance-card.txt")) {
			hasFile, viaTLS = true, r.TLS != nil
		}
	}
	if !hasFile || !viaTLS {
		t.Fatalf("reply with its file over TLS: file %v, tls %v", hasFile, viaTLS)
	}
	// The reply is an ordinary message whose secured event names verified TLS.
	var replyID string
	for _, ev := range pe.events("message=" + id + "&type=portal.replied") {
		replyID = ev["data"].(map[string]any)["reply_message_id"].(string)
	}
	m := pe.waitFinal(replyID)
	if sec := m["recipients"].([]any)[0].(map[string]any)["security"].(map[string]any); sec["method"] != "tls" {
		t.Errorf("reply secured by %v, want tls", sec["method"])
	}
	if len(b.Dialogs()) > 0 {
		t.Errorf("dialogs: %v", b.Dialogs())
	}

	// Revoked: the same browser sees the neutral page.
	if s, out := pe.do("POST", "/v1/messages/"+id+"/revoke", pe.key, nil); s != 200 {
		t.Fatalf("revoke: %d %v", s, out)
	}
	b.Navigate(link + "/m")
	if !strings.Contains(b.Text("main"), "not available") || strings.Contains(b.HTML(), "Potassium") {
		t.Fatalf("revoked page:\n%s", b.Text("body"))
	}
	shot("portal-gone.png")

	// Locked: a second message, five wrong codes.
	_, link2 := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
	b.Navigate(link2 + "/code")
	for range 5 {
		b.Fill("#code", "111111")
		b.Click(`form[action$="/verify"] button`)
	}
	if !strings.Contains(b.Text("main"), "Try again after") {
		t.Fatalf("locked page:\n%s", b.Text("body"))
	}
	shot("portal-locked.png")
}

// logoPNG is a small wordmark-like logo for the screenshots.
func logoPNG() []byte {
	return tinyPNGSized(48, 48)
}
