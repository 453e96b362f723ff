package server_test

import (
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// A portal reply never goes to an address that cannot receive: to a noreply@ sender
// without Reply-To and with no reply mailbox set, the page says so instead of
// offering a form, and a reply posted anyway is refused and not sent. Once the
// account names a reply mailbox, the reply goes there; a Reply-To would come first.
func TestPortalReplyDestination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		const rcpt = "pat@plain.example"
		_, link := pe.sendPortal(rcpt, portalMessage(rcpt, map[string]any{"from": "Northside Lab <noreply@clinic.example>"}))
		v := newVisitor(t)
		pe.signIn(v, link, rcpt)
		m := v.get(link + "/m")
		if m.status != 200 || strings.Contains(m.body, `id="reply-body"`) || !strings.Contains(m.body, "does not accept replies") {
			t.Fatalf("message page offers a reply to noreply@:\n%s", m.body)
		}
		p := v.postFiles(link+"/reply", map[string]string{"csrf": csrfOf(t, m.body), "body": "Is this right?"}, nil)
		if p.status != 409 || !strings.Contains(p.body, "Nothing was sent") {
			t.Fatalf("reply to noreply@: %d\n%s", p.status, p.body)
		}
		if s, body := pe.do("PUT", "/v1/portal/settings", pe.key, map[string]any{"reply_mailbox": "no-reply@clinic.example"}); s != 422 {
			t.Fatalf("a reply mailbox that cannot receive: %d %v", s, body)
		}
		if s, body := pe.do("PUT", "/v1/portal/settings", pe.key, map[string]any{"reply_mailbox": "frontdesk@clinic.example"}); s != 200 {
			t.Fatalf("set reply mailbox: %d %v", s, body)
		}
		m = v.get(link + "/m")
		p = v.postFiles(link+"/reply", map[string]string{"csrf": csrfOf(t, m.body), "body": "Is this right?"}, nil)
		if p.status != 303 {
			t.Fatalf("reply with a reply mailbox: %d %s", p.status, p.body)
		}
		pe.waitMail(pe.clinic, "frontdesk@clinic.example", "Is this right?", 0)
		if n := len(mailTo(pe.clinic, "noreply@clinic.example", "Is this right?")); n != 0 {
			t.Fatal("a reply went to noreply@")
		}
	})
}
