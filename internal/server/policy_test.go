package server_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestPolicyRulesBlockQuarantineAndValidate stores a policy through the API and sees
// each action work: a bad policy is refused by field path, a blocked message is a 422
// naming the category and stores nothing, a quarantined one waits for release.
func TestPolicyRulesBlockQuarantineAndValidate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		bad := map[string]any{"rules": []any{
			map[string]any{"if": map[string]any{}, "then": map[string]any{"action": "secure", "methods": []string{"tls"}}},
			map[string]any{"if": map[string]any{"categories": []string{"ssn"}}, "then": map[string]any{"action": "secure", "methods": []string{"none"}}},
		}}
		s, p := e.do("PUT", "/v1/policy", e.key, bad)
		if s != 422 || !strings.Contains(problemFields(p), "rules[1].then.methods[0]") {
			t.Fatalf("plain delivery for PHI accepted: %d %v", s, p)
		}
		s, p = e.do("PUT", "/v1/policy", e.key, map[string]any{"rules": []any{
			map[string]any{"if": map[string]any{"categories": []string{"nonsense"}}, "then": map[string]any{"action": "block"}}}})
		if s != 422 || !strings.Contains(problemFields(p), "rules[0].if.categories[0]") {
			t.Fatalf("unknown category accepted: %d %v", s, p)
		}
		s, p = e.do("PUT", "/v1/policy", e.key, map[string]any{"dlp": map[string]any{"regexps": []string{"(unclosed"}}})
		if s != 422 || !strings.Contains(problemFields(p), "dlp") {
			t.Fatalf("bad regexp accepted: %d %v", s, p)
		}

		good := map[string]any{"rules": []any{
			map[string]any{"name": "no cards", "if": map[string]any{"categories": []string{"card"}}, "then": map[string]any{"action": "block"}},
			map[string]any{"name": "review", "if": map[string]any{"tags": []string{"review"}}, "then": map[string]any{"action": "quarantine"}},
		}, "dlp": map[string]any{"keywords": []string{"oncology"}}}
		if s, p := e.do("PUT", "/v1/policy", e.key, good); s != 200 || p["version"].(float64) != 1 {
			t.Fatalf("store policy: %d %v", s, p)
		}
		if _, p := e.do("GET", "/v1/policy", e.key, nil); len(p["policy"].(map[string]any)["rules"].([]any)) != 2 {
			t.Fatalf("policy not stored: %v", p)
		}

		var before int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM messages").Scan(&before)
		s, p = e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s",
			"text": "Card 4111 1111 1111 1111 on file for the copay."})
		if s != 422 || !strings.Contains(p["detail"].(string), "card") || strings.Contains(p["detail"].(string), "4111") {
			t.Fatalf("card not blocked, or the number echoed: %d %v", s, p)
		}
		var after int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM messages").Scan(&after)
		if after != before {
			t.Fatal("blocked message stored")
		}

		// The tenant's keyword is a finding too.
		_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "Your oncology follow-up", "tags": []string{"review"}})
		if res["status"] != "quarantined" || !strings.Contains(toJSON(res["dlp"]), "keyword") {
			t.Fatalf("not quarantined with a keyword finding: %v", res)
		}
		id := res["id"].(string)
		time.Sleep(300 * time.Millisecond)
		if e.rcv.Count() != 0 {
			t.Fatal("quarantined message delivered")
		}
		if s, _ := e.do("POST", "/v1/messages/"+id+"/release", e.key, nil); s != 200 {
			t.Fatalf("release: %d", s)
		}
		m := e.waitFinal(id)
		if r := m["recipients"].([]any)[0].(map[string]any); r["status"] != "delivered" || r["security"].(map[string]any)["method"] != "tls" {
			t.Fatalf("released message: %v", r)
		}
		if s, _ := e.do("POST", "/v1/messages/"+id+"/release", e.key, nil); s != 409 {
			t.Fatalf("second release: %d", s)
		}

		// Deleting a quarantined message purges it.
		_, res = e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "hello", "tags": []string{"review"}})
		id = res["id"].(string)
		if s, _ := e.do("DELETE", "/v1/messages/"+id, e.key, nil); s != 200 {
			t.Fatalf("delete: %d", s)
		}
		var content []byte
		e.srv.DB.SQL().QueryRow("SELECT content FROM messages WHERE id = $1", id).Scan(&content)
		if content != nil {
			t.Fatal("deleted message content kept")
		}
		var jobs int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM deliveries WHERE message_id = $1", id).Scan(&jobs)
		if jobs != 0 {
			t.Fatal("deleted message still queued")
		}

		// A sender flag: "none" is refused for PHI; "force" portal is honoured.
		s, p = e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": phiText, "security": map[string]any{"force": "none"}})
		if s != 422 || !strings.Contains(problemFields(p), "security.force") {
			t.Fatalf("force none with PHI: %d %v", s, p)
		}
		_, pv := e.do("POST", "/v1/policy/preview", e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "hi", "security": map[string]any{"require": "encrypted"}})
		if r := pv["recipients"].([]any)[0].(map[string]any); r["method"] != "portal" {
			t.Fatalf("require encrypted without keys should give portal: %v", r)
		}
	})
}

// TestRecipientKeysRefuseUnusable registers keys through the API: expired, weak and
// mismatched certificates are refused with the reason; a good one is listed usable.
func TestRecipientKeysRefuseUnusable(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	cert := func(email string, bits int, notAfter time.Time) string {
		key, _ := rsa.GenerateKey(rand.Reader, bits)
		tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: email}, EmailAddresses: []string{email},
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
		der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	for name, c := range map[string]struct{ email, key, want string }{
		"expired":  {"a@patient.example", cert("a@patient.example", 2048, time.Now().Add(-time.Hour)), "expired"},
		"weak":     {"a@patient.example", cert("a@patient.example", 1024, time.Now().Add(time.Hour)), "1024"},
		"mismatch": {"b@patient.example", cert("a@patient.example", 2048, time.Now().Add(time.Hour)), "address"},
		"garbage":  {"a@patient.example", "not a certificate", "cannot be read"},
	} {
		s, p := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": c.email, "type": "smime", "key": c.key})
		if s != 422 || !strings.Contains(strings.ToLower(p["detail"].(string)), c.want) {
			t.Errorf("%s: %d %v", name, s, p)
		}
	}
	if s, p := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "a@patient.example", "type": "x", "key": "k"}); s != 422 || !strings.Contains(problemFields(p), "type") {
		t.Errorf("unknown type: %d %v", s, p)
	}
	s, p := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "a@patient.example", "type": "smime", "key": cert("a@patient.example", 2048, time.Now().Add(time.Hour))})
	if s != 201 || p["usable"] != true || p["fingerprint"] == "" {
		t.Fatalf("good certificate: %d %v", s, p)
	}
	_, list := e.do("GET", "/v1/recipient-keys?email=a@patient.example", e.key, nil)
	if n := len(list["keys"].([]any)); n != 1 {
		t.Fatalf("listed %d keys", n)
	}
	if s, _ := e.do("DELETE", "/v1/recipient-keys/"+p["id"].(string), e.key, nil); s != 204 {
		t.Fatalf("delete: %d", s)
	}
}

func problemFields(p map[string]any) string {
	var out []string
	if errs, ok := p["errors"].([]any); ok {
		for _, f := range errs {
			out = append(out, f.(map[string]any)["field"].(string))
		}
	}
	return strings.Join(out, ",")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestUnscannableContentFailsClosed: an attachment DLP cannot open (a corrupt zip) is
// an "unscanned" finding, so plain delivery is not permitted for it.
func TestUnscannableContentFailsClosed(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	s, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": "see attached",
		"attachments": []map[string]string{{"filename": "records.zip", "content_type": "application/zip", "content": "UEsDBBQAAAAIAGdhcmJhZ2Utbm90LWEtemlwLWFyY2hpdmU="}},
		"security":    map[string]any{"force": "none"}})
	if s != 422 || !strings.Contains(toJSON(res), "unscanned") {
		t.Fatalf("corrupt archive sent in plain: %d %v", s, res)
	}
}
