package devnet

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMailboxRenderedView: one message shown as a reader would see it — decoded
// headers, the text with its portal link clickable, the HTML body sanitized by the
// portal's sanitizer in a sandboxed frame — with a way back to the list and to the
// raw message.
func TestMailboxRenderedView(t *testing.T) {
	t.Parallel()
	r := startTestReceiver(t, ReceiverOptions{})
	const link = "http://127.0.0.1:8080/p/AbCdEfGhIjKlMnOpQrStUvWx"
	msg := "From: Clinic <noreply@example.com>\r\nTo: pat@example.org\r\n" +
		"Subject: =?UTF-8?B?PHNjcmlwdD5Iw6lsbG88L3NjcmlwdD4=?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOpen your message: " + link + ".\r\n<b>not bold</b>\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p onclick=\"steal()\">Hi <a href=\"" + link + "\">open</a></p><script>steal()</script><img src=\"https://tracker.example/x.gif\">\r\n" +
		"--b--\r\n"
	replies := rawSession(t, r.Addr(), "EHLO c\r\n", "MAIL FROM:<a@b.test>\r\n", "RCPT TO:<pat@example.org>\r\n", "DATA\r\n", msg+".\r\n")
	if !strings.HasPrefix(replies[len(replies)-1], "250") {
		t.Fatalf("replies %q", replies)
	}
	h := r.MailboxHandler()
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}
	list := get("/").Body.String()
	if !strings.Contains(list, `href="?view=1"`) || !strings.Contains(list, `href="?id=1"`) {
		t.Errorf("list does not link the views:\n%s", list)
	}
	page := get("/?view=1")
	body := page.Body.String()
	for _, want := range []string{
		`<a href="?" id="back">`, `<a href="?id=1">Raw message</a>`,
		`<a href="` + link + `" target="_blank" rel="noopener noreferrer">` + link + `</a>.`,
		"&lt;script&gt;Héllo&lt;/script&gt;", "&lt;b&gt;not bold&lt;/b&gt;", "Clinic &lt;noreply@example.com&gt;",
		`<iframe title="HTML body" sandbox="allow-popups allow-popups-to-escape-sandbox" src="?view=1&amp;part=html">`,
		"plain SMTP (no TLS)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("rendered view lacks %q:\n%s", want, body)
		}
	}
	if page.Code != 200 || strings.Contains(body, "<script") || strings.Contains(body, "<b>") {
		t.Errorf("rendered view %d:\n%s", page.Code, body)
	}
	frame := get("/?view=1&part=html")
	fb := frame.Body.String()
	if csp := frame.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("frame CSP %q", csp)
	}
	if !strings.Contains(fb, `href="`+link+`"`) || strings.Contains(fb, "<script") || strings.Contains(fb, "onclick") || strings.Contains(fb, "tracker.example") {
		t.Errorf("HTML body not sanitized:\n%s", fb)
	}
	if get("/?view=9").Code != 404 || get("/?view=x").Code != 400 {
		t.Error("bad ids not rejected")
	}
}
