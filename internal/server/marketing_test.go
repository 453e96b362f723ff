package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestMarketingSend: personalising outside the consent's scope is refused with the
// field path; a consented message is delivered with List-Unsubscribe and
// List-Unsubscribe-Post inside the h= of a DKIM signature dkimpy verifies; the link's
// GET changes nothing, a tampered link does nothing, and the one-click POST with no
// cookie unsubscribes at once, after which the next send is refused.
func TestMarketingSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		must := func(status int, out map[string]any) {
			t.Helper()
			if status/100 != 2 {
				t.Fatalf("status %d: %v", status, out)
			}
		}
		must(e.do("POST", "/v1/contact-fields", e.key, map[string]any{"name": "first_name", "type": "string"}))
		must(e.do("POST", "/v1/contact-fields", e.key, map[string]any{"name": "diagnosis", "type": "string"}))
		s, ct := e.do("POST", "/v1/contacts", e.key, map[string]any{"email": "pat@patient.example", "fields": map[string]any{"first_name": "Pat", "diagnosis": "asthma"}})
		must(s, ct)
		s, ls := e.do("POST", "/v1/lists", e.key, map[string]any{"name": "Clinic news"})
		must(s, ls)
		must(e.do("PUT", "/v1/lists/"+ls["id"].(string)+"/members/"+ct["id"].(string), e.key, map[string]any{"status": "confirmed"}))
		must(e.do("POST", "/v1/consents", e.key, map[string]any{"email": "pat@patient.example", "kind": "hipaa_authorization", "purposes": []string{"marketing"},
			"fields": []string{"first_name"}, "obtained_via": "signed_form", "evidence_hash": strings.Repeat("9a", 32), "expiry_event": "end_of_treatment"}))
		msg := func(text string) map[string]any {
			return map[string]any{"from": "news@clinic.example", "contact": ct["id"], "list": ls["id"], "consent": map[string]any{"kind": "hipaa_authorization"},
				"subject": "News for {{first_name}}", "text": text}
		}
		s, out := e.do("POST", "/v1/marketing/messages", e.key, msg("Managing {{diagnosis}} this winter"))
		if s != 422 || !strings.Contains(errorsOf(out), "text.{{diagnosis}}") {
			t.Fatalf("personalising outside the scope: %d %v", s, out)
		}
		s, out = e.do("POST", "/v1/marketing/messages", e.key, msg("Hello {{first_name}}. Unsubscribe: {{unsubscribe_url}}"))
		must(s, out)
		e.waitFinal(out["id"].(string))
		got := e.rcv.Messages()
		if len(got) != 1 {
			t.Fatalf("%d messages delivered", len(got))
		}
		raw := got[0].Data
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		lu, lup := m.Header.Get("List-Unsubscribe"), m.Header.Get("List-Unsubscribe-Post")
		if lup != "List-Unsubscribe=One-Click" || !strings.HasPrefix(lu, "<") {
			t.Fatalf("headers: %q %q", lu, lup)
		}
		sig := strings.ReplaceAll(strings.Join(strings.Fields(m.Header.Get("DKIM-Signature")), ""), " ", "")
		hTag := regexp.MustCompile(`(?:^|;)h=([^;]+)`).FindStringSubmatch(sig)
		if hTag == nil || !strings.Contains(strings.ToLower(hTag[1]), "list-unsubscribe:list-unsubscribe-post") {
			t.Fatalf("h= does not cover the unsubscribe headers: %q", sig)
		}
		dkimVerify(t, raw, e.dkimTXT)

		link := strings.Trim(lu, "<>")
		path := link[strings.Index(link, "/u/"):]
		suppressed := func() bool {
			_, out := e.do("GET", "/v1/suppressions?scope=marketing", e.key, nil)
			return len(out["suppressions"].([]any)) > 0
		}
		resp, err := http.Get(e.base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || suppressed() {
			t.Fatalf("GET: %d, suppressed %v", resp.StatusCode, suppressed())
		}
		tampered := path[:len(path)-3] + "AAA"
		if tampered == path {
			tampered = path[:len(path)-3] + "BBB"
		}
		for _, p := range []string{tampered, strings.Replace(path, "/u/", "/u/A", 1)} {
			resp, err = http.Post(e.base+p, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 || suppressed() {
				t.Fatalf("tampered link: %d, suppressed %v", resp.StatusCode, suppressed())
			}
		}
		// What a mailbox provider sends (RFC 8058 3.2): no cookie, no session.
		resp, err = http.Post(e.base+path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !suppressed() {
			t.Fatalf("one-click POST: %d, suppressed %v", resp.StatusCode, suppressed())
		}
		if evs := e.events("type=unsubscribed"); len(evs) != 1 {
			t.Fatalf("unsubscribed events: %v", evs)
		}
		s, out = e.do("POST", "/v1/marketing/messages", e.key, msg("Hello again {{first_name}}"))
		if s != 422 || !strings.Contains(errorsOf(out), "marketing.contact") {
			t.Fatalf("send after unsubscribing: %d %v", s, out)
		}
		// Transactional mail to the same address still goes.
		if s, out := e.send(e.key, simple("pat@patient.example")); s != 202 {
			t.Fatalf("transactional send: %d %v", s, out)
		}
	})
}

func errorsOf(p map[string]any) string {
	var b strings.Builder
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			b.WriteString(m["field"].(string) + " ")
		}
	}
	return b.String()
}
