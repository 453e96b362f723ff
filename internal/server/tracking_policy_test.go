package server_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	gomessage "github.com/emersion/go-message"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestTrackingFollowsTheTenantPolicy: the policy's tracking default applies to a
// message that says nothing, preview shows it per recipient with the reason, and the
// bytes the receiver gets carry a pixel and tracked links only where the rule allows —
// never in a PGP copy, a portal notice or (unless the policy says so) a PHI message.
func TestTrackingFollowsTheTenantPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		s, p := e.do("PUT", "/v1/policy", e.key, map[string]any{"tracking": map[string]any{"opens": true, "with_phi": "sometimes"}})
		if s != 422 || !strings.Contains(problemFields(p), "tracking.with_phi") {
			t.Fatalf("bad with_phi accepted: %d %v", s, p)
		}
		if s, p := e.do("PUT", "/v1/policy", e.key, map[string]any{"tracking": map[string]any{"opens": true, "clicks": true}}); s != 200 {
			t.Fatalf("store policy: %d %v", s, p)
		}
		home, pub := gpgRecipient(t, "pgp@"+patientDomain)
		if s, out := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "pgp@" + patientDomain, "type": "pgp", "key": string(pub)}); s != 201 {
			t.Fatalf("register pgp key: %d %v", s, out)
		}
		html := `<p>Hello, see <a href="https://clinic.example/visit">your visit</a>.</p>`
		msg := func(to, text string, extra map[string]any) map[string]any {
			m := map[string]any{"from": "a@clinic.example", "to": to, "subject": "Visit", "text": text, "html": html + "<p>" + text + "</p>"}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}

		_, pv := e.do("POST", "/v1/policy/preview", e.key, msg("plain@"+patientDomain, "See you soon.", nil))
		tr := pv["recipients"].([]any)[0].(map[string]any)["tracking"].(map[string]any)
		if tr["opens"] != true || tr["clicks"] != true || tr["source"] != "tenant default" {
			t.Fatalf("preview of a plain message: %v", pv)
		}
		_, pv = e.do("POST", "/v1/policy/preview", e.key, msg("phi@"+patientDomain, phiText, nil))
		tr = pv["recipients"].([]any)[0].(map[string]any)["tracking"].(map[string]any)
		if tr["opens"] != false || !strings.Contains(tr["reason"].(string), "PHI") {
			t.Fatalf("preview of a PHI message: %v", pv)
		}
		_, pv = e.do("POST", "/v1/policy/preview", e.key, msg("pgp@"+patientDomain, "See you soon.", map[string]any{"security": map[string]any{"force": "pgp"}}))
		tr = pv["recipients"].([]any)[0].(map[string]any)["tracking"].(map[string]any)
		if tr["opens"] != false || !strings.Contains(tr["reason"].(string), "pgp") {
			t.Fatalf("preview of a PGP copy: %v", pv)
		}

		sendFinal := func(m map[string]any) {
			t.Helper()
			s, res := e.send(e.key, m)
			if s != 202 && s != 200 {
				t.Fatalf("send: %d %v", s, res)
			}
			e.waitFinal(res["id"].(string))
		}
		sendFinal(msg("plain@"+patientDomain, "See you soon.", nil))
		sendFinal(msg("phi@"+patientDomain, phiText, nil))
		sendFinal(msg("portal@"+patientDomain, "See you soon.", map[string]any{"security": map[string]any{"force": "portal"}}))
		sendFinal(msg("pgp@"+patientDomain, "See you soon.", map[string]any{"security": map[string]any{"force": "pgp"}}))
		sendFinal(msg("own@"+patientDomain, "See you soon.", map[string]any{"track": map[string]any{"opens": false, "clicks": false}}))

		// A template's own choice comes before the tenant's default.
		s, tpl := e.do("POST", "/v1/templates", e.key, map[string]any{"name": "visit", "subject": "Visit", "text": "See you soon.",
			"html": html, "track": map[string]any{"opens": false, "clicks": false}})
		if s != 201 || tpl["track"] == nil {
			t.Fatalf("template: %d %v", s, tpl)
		}
		fromTemplate := map[string]any{"from": "a@clinic.example", "to": "tpl@" + patientDomain, "template_id": tpl["id"]}
		_, pv = e.do("POST", "/v1/policy/preview", e.key, fromTemplate)
		if tr := pv["recipients"].([]any)[0].(map[string]any)["tracking"].(map[string]any); tr["source"] != "template" || tr["opens"] != false {
			t.Fatalf("preview from a template: %v", pv)
		}
		sendFinal(fromTemplate)

		tracked := func(rcpt string) bool {
			t.Helper()
			got := messageTo(e.rcv, rcpt)
			if got == nil {
				t.Fatalf("nothing delivered to %s", rcpt)
			}
			data := got.Data
			if strings.HasPrefix(rcpt, "pgp@") {
				plain, _ := gpgDecrypt(t, home, data)
				if len(plain) == 0 {
					t.Fatal("pgp copy does not decrypt")
				}
				data = plain
			}
			body := decodedParts(t, data)
			return strings.Contains(body, "/t/o/") || strings.Contains(body, "/t/c/")
		}
		if !tracked("plain@" + patientDomain) {
			t.Fatal("the tenant default did not track a plain message")
		}
		for _, rcpt := range []string{"phi", "portal", "pgp", "own", "tpl"} {
			if tracked(rcpt + "@" + patientDomain) {
				t.Fatalf("%s copy carries tracking", rcpt)
			}
		}

		// The policy may allow tracking with PHI; then a PHI message over TLS is tracked.
		if s, p := e.do("PUT", "/v1/policy", e.key, map[string]any{"tracking": map[string]any{"opens": true, "with_phi": "allowed"}}); s != 200 {
			t.Fatalf("store policy: %d %v", s, p)
		}
		_, pv = e.do("POST", "/v1/policy/preview", e.key, msg("phi2@"+patientDomain, phiText, nil))
		if tr := pv["recipients"].([]any)[0].(map[string]any)["tracking"].(map[string]any); tr["opens"] != true || tr["clicks"] != false {
			t.Fatalf("preview with PHI allowed: %v", pv)
		}
		sendFinal(msg("phi2@"+patientDomain, phiText, nil))
		if !tracked("phi2@" + patientDomain) {
			t.Fatal("PHI message not tracked although the policy allows it")
		}
	})
}

// decodedParts is every text part of a message, transfer encoding removed, so a URL
// broken by quoted-printable line wrapping is still found.
func decodedParts(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		t.Fatal(err)
	}
	var out strings.Builder
	e.Walk(func(_ []int, p *gomessage.Entity, _ error) error {
		if ct, _, _ := p.Header.ContentType(); strings.HasPrefix(ct, "text/") {
			b, _ := io.ReadAll(p.Body)
			out.Write(b)
		}
		return nil
	})
	return out.String()
}
