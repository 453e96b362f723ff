package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestPortalReadDownloadReply follows one recipient through the portal over HTTP: the
// notice carries no PHI, the page shows none before sign-in, a code opens the message,
// the attachment downloads byte for byte, a reply reaches the sender over verified TLS,
// and every step is an event and an audit entry.
func TestPortalReadDownloadReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		const rcpt = "pat@plain.example"
		id, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
		notice := mailTo(pe.plain, rcpt, "/p/")[0]
		if strings.Contains(notice, "512-44-6789") || strings.Contains(notice, "Your results") || strings.Contains(notice, "potassium") {
			t.Fatalf("notice leaks content:\n%s", notice)
		}
		v := newVisitor(t)
		land := v.get(link)
		if land.status != 200 || !strings.Contains(land.body, "p•••@plain.example") || strings.Contains(land.body, "Your results") {
			t.Fatalf("landing: %d\n%s", land.status, land.body)
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := land.header.Get(h); got != want {
				t.Errorf("%s: %q, want %q", h, got, want)
			}
		}
		if csp := land.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP: %q", csp)
		}
		if m := v.get(link + "/m"); m.status != 303 || strings.Contains(m.body, "potassium") {
			t.Fatalf("message before sign-in: %d", m.status)
		}

		before := len(mailTo(pe.plain, rcpt, "access code is"))
		if p := v.post(link+"/code", nil); p.status != 303 {
			t.Fatalf("request code: %d", p.status)
		}
		code := pe.code(rcpt, before)
		p := v.post(link+"/verify", url.Values{"code": {code}})
		if p.status != 303 || !strings.HasSuffix(p.location, "/m") {
			t.Fatalf("verify: %d %s", p.status, p.body)
		}
		if len(v.cookies) != 1 {
			t.Fatalf("cookies after sign-in: %v", v.cookies)
		}
		for _, c := range v.cookies {
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Errorf("session cookie attributes: %+v", c)
			}
		}
		m := v.get(link + "/m")
		if m.status != 200 || !strings.Contains(m.body, "Your results") || !strings.Contains(m.body, "potassium is 4.1") || !strings.Contains(m.body, "report.pdf") {
			t.Fatalf("message page: %d\n%s", m.status, m.body)
		}
		if m.header.Get("Cache-Control") != "no-store" {
			t.Error("message page may be cached")
		}
		dl := v.get(link + "/a/0")
		if dl.status != 200 || !bytes.Equal([]byte(dl.body), reportPDF) || !strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") ||
			dl.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("download: %d %v", dl.status, dl.header)
		}
		if p := v.get(link + "/a/7"); p.status != 404 {
			t.Errorf("missing attachment: %d", p.status)
		}

		// Reply with an attachment: it reaches lab@clinic.example over verified TLS.
		reply := v.postFiles(link+"/reply", map[string]string{"csrf": csrfOf(t, m.body), "body": "Thank you. Should I repeat the test?"},
			map[string][]byte{"question.txt": []byte("photo of my arm")})
		if reply.status != 303 || !strings.Contains(reply.location, "replied=1") {
			t.Fatalf("reply: %d %s", reply.status, reply.body)
		}
		got := pe.waitMail(pe.clinic, "lab@clinic.example", "Should I repeat the test?", 0)
		if !strings.Contains(got, "pat@plain.example") {
			t.Errorf("reply does not say who sent it:\n%s", got)
		}
		var raw *struct{ tls bool }
		for _, r := range pe.clinic.Messages() {
			if bytes.Contains(r.Data, []byte("question.txt")) {
				raw = &struct{ tls bool }{r.TLS != nil}
				if !bytes.Contains(r.Data, []byte("In-Reply-To:")) {
					t.Error("reply is not threaded to the original")
				}
			}
		}
		if raw == nil || !raw.tls {
			t.Fatalf("reply with attachment not received over TLS: %+v", raw)
		}
		if m := v.get(link + "/m?replied=1"); !strings.Contains(m.body, "Should I repeat the test?") || !strings.Contains(m.body, "sent securely") {
			t.Errorf("thread does not show the reply:\n%s", m.body)
		}
		// A reply without the form's CSRF token is refused.
		if p := v.postFiles(link+"/reply", map[string]string{"body": "forged"}, nil); p.status != 403 {
			t.Errorf("reply without csrf: %d", p.status)
		}

		types := map[string]int{}
		for _, ev := range pe.events("message=" + id) {
			types[ev["type"].(string)]++
		}
		for _, typ := range []string{"portal.notified", "portal.code_sent", "portal.signed_in", "portal.viewed", "portal.downloaded", "portal.replied"} {
			if types[typ] == 0 {
				t.Errorf("no %s event; have %v", typ, types)
			}
		}
		if types["portal.viewed"] < 2 {
			t.Errorf("every view is an event: %d", types["portal.viewed"])
		}
		metrics := scrape(t, pe.env)
		for ev, min := range map[string]float64{"code_sent": 1, "signed_in": 1, "viewed": 2, "downloaded": 1, "replied": 1} {
			if got := metricValue(t, metrics, `sealpost_portal_events_total{event="`+ev+`"}`); got < min {
				t.Errorf("portal %s counter %v, want at least %v", ev, got, min)
			}
		}
		audited := map[string]bool{}
		pe.srv.DB.AuditScan(context.Background(), 1, func(a *store.AuditEntry) error {
			audited[a.Action] = true
			if strings.Contains(a.Object+a.Detail+a.Client, "plain.example") {
				t.Errorf("audit entry holds an address: %+v", a)
			}
			return nil
		})
		for _, typ := range []string{"portal.code_sent", "portal.signed_in", "portal.viewed", "portal.downloaded", "portal.replied"} {
			if !audited[typ] {
				t.Errorf("%s not audited", typ)
			}
		}

		// The portal's reply and access-code messages went through the journal too.
		assertArchived(t, pe.env)

		// A used code fails: sign out, and the same code opens nothing.
		m = v.get(link + "/m")
		if p := v.post(link+"/logout", url.Values{"csrf": {csrfOf(t, m.body)}}); p.status != 303 {
			t.Fatalf("logout: %d", p.status)
		}
		if p := v.post(link+"/verify", url.Values{"code": {code}}); p.status != 401 || len(v.cookies) != 0 {
			t.Fatalf("used code: %d, cookies %v", p.status, v.cookies)
		}
		if strings.Contains(pe.logs.String(), "potassium") || strings.Contains(pe.logs.String(), strings.TrimPrefix(link, pe.base+"/p/")) {
			t.Error("logs hold content or a portal token")
		}
	})
}

// TestPortalLockout: 1,000 wrong codes open nothing and lock the copy; the right code
// does not work while it is locked; wrong attempts spread over several messages lock
// the client address.
func TestPortalLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		const rcpt = "lock@plain.example"
		_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
		v := newVisitor(t)
		before := len(mailTo(pe.plain, rcpt, "access code is"))
		v.post(link+"/code", nil)
		code := pe.code(rcpt, before)
		statuses := map[int]int{}
		for i := range 1000 {
			guess := strings.Repeat("0", 6-len(itoa(i))) + itoa(i)
			if guess == code {
				guess = "999999"
				if guess == code {
					guess = "999998"
				}
			}
			p := v.post(link+"/verify", url.Values{"code": {guess}})
			statuses[p.status]++
			if p.status == 303 || len(v.cookies) > 0 {
				t.Fatalf("wrong code %s opened the message", guess)
			}
		}
		// Four refusals; the fifth wrong code locks, and so does everything after it.
		if statuses[401] != 4 || statuses[429] != 996 {
			t.Fatalf("statuses over 1,000 wrong codes: %v; want 4 refusals, then the lock", statuses)
		}
		if p := v.post(link+"/verify", url.Values{"code": {code}}); p.status != 429 || len(v.cookies) > 0 {
			t.Fatalf("right code while locked: %d", p.status)
		}
		if p := v.get(link + "/m"); p.status != 303 {
			t.Fatalf("message while locked: %d", p.status)
		}
		if p := v.post(link+"/code", nil); p.status != 429 {
			t.Errorf("new code while locked: %d", p.status)
		}
		fails, locks := len(pe.events("type=portal.code_failed")), len(pe.events("type=portal.locked"))
		if fails != 5 || locks != 1 {
			t.Errorf("events: %d code_failed, %d locked; want 5 and 1", fails, locks)
		}
		metrics := scrape(t, pe.env)
		if f, l := metricValue(t, metrics, `sealpost_portal_events_total{event="code_failed"}`), metricValue(t, metrics, `sealpost_portal_events_total{event="locked"}`); f != 5 || l != 1 {
			t.Errorf("counters: %v code_failed, %v locked; want 5 and 1", f, l)
		}
	})
}

// TestPortalClientLockout: failures spread across messages lock the client address.
func TestPortalClientLockout(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), func(c *config.Config) { c.Portal.MaxFailures, c.Portal.ClientMaxFailures = 3, 6 })
	var links []string
	for _, r := range []string{"a@plain.example", "b@plain.example", "c@plain.example"} {
		_, l := pe.sendPortal(r, portalMessage(r, nil))
		links = append(links, l)
	}
	v := newVisitor(t)
	for _, l := range links[:2] {
		for range 3 {
			v.post(l+"/verify", url.Values{"code": {"123456"}})
		}
	}
	// Two copies locked by three failures each: six from this address locks it, so
	// the third copy, never guessed at, is locked for this client too.
	if p := v.post(links[2]+"/code", nil); p.status != 429 {
		t.Fatalf("third copy from a locked client: %d", p.status)
	}
	if p := v.get(links[2] + "/code"); p.status != 429 {
		t.Fatalf("code page from a locked client: %d", p.status)
	}
}

// TestPortalExpiredCode: a code past its life fails.
func TestPortalExpiredCode(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), func(c *config.Config) { c.Portal.CodeTTL = "1s" })
	const rcpt = "slow@plain.example"
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
	v := newVisitor(t)
	before := len(mailTo(pe.plain, rcpt, "access code is"))
	v.post(link+"/code", nil)
	code := pe.code(rcpt, before)
	time.Sleep(1200 * time.Millisecond)
	if p := v.post(link+"/verify", url.Values{"code": {code}}); p.status != 401 || len(v.cookies) != 0 {
		t.Fatalf("expired code: %d", p.status)
	}
}

// TestPortalSessionIdle: a session unused for longer than the idle timeout ends.
func TestPortalSessionIdle(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), func(c *config.Config) { c.Portal.SessionIdle = "1s" })
	const rcpt = "idle@plain.example"
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
	v := newVisitor(t)
	pe.signIn(v, link, rcpt)
	if p := v.get(link + "/m"); p.status != 200 {
		t.Fatalf("fresh session: %d", p.status)
	}
	time.Sleep(600 * time.Millisecond)
	if p := v.get(link + "/m"); p.status != 200 {
		t.Fatalf("active session ended early: %d", p.status) // each request restarts the idle clock
	}
	time.Sleep(1200 * time.Millisecond)
	if p := v.get(link + "/m"); p.status != 303 || strings.Contains(p.body, "potassium") {
		t.Fatalf("idle session still open: %d", p.status)
	}
}

// TestPortalCodeFlood: a link in the wrong hands sends at most five codes an hour.
func TestPortalCodeFlood(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), nil)
	const rcpt = "flood@plain.example"
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
	v := newVisitor(t)
	if p := v.post(link+"/code", nil); p.status != 303 || !strings.HasSuffix(p.location, "sent=1") {
		t.Fatalf("first code: %d %s", p.status, p.location)
	}
	if p := v.post(link+"/code", nil); !strings.HasSuffix(p.location, "sent=wait") {
		t.Fatalf("second code at once: %s", p.location)
	}
	for range 4 {
		pe.srv.DB.SQL().Exec("UPDATE portal_messages SET code_sent_at = code_sent_at - 60000")
		if p := v.post(link+"/code", nil); !strings.HasSuffix(p.location, "sent=1") {
			t.Fatalf("code a minute later: %s", p.location)
		}
	}
	pe.srv.DB.SQL().Exec("UPDATE portal_messages SET code_sent_at = code_sent_at - 60000")
	p := v.post(link+"/code", nil)
	if !strings.HasSuffix(p.location, "sent=limit") {
		t.Fatalf("sixth code in an hour: %s", p.location)
	}
	if page := v.get(pe.base + p.location); !strings.Contains(page.body, "Several codes have been sent") {
		t.Errorf("the code page does not explain:\n%s", page.body)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(pe.events("type=portal.code_sent")); n != 5 {
		t.Errorf("code emails: %d, want 5", n)
	}
	// An hour on, codes flow again.
	pe.srv.DB.SQL().Exec("UPDATE portal_messages SET code_window_start = code_window_start - 3600000, code_sent_at = code_sent_at - 60000")
	if p := v.post(link+"/code", nil); !strings.HasSuffix(p.location, "sent=1") {
		t.Fatalf("code after the window: %s", p.location)
	}
}
