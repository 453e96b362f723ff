package server_test

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestPortalIsolationRevokeExpire: one copy's session opens no other; revoking shows a
// neutral page and destroys the key; an expiry change stays within bounds; the sweeper
// destroys what has expired.
func TestPortalIsolationRevokeExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		const rcpt = "two@plain.example"
		idA, linkA := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
		idB, linkB := pe.sendPortal(rcpt, portalMessage(rcpt, map[string]any{"subject": "Second letter", "text": "Biopsy: benign. MRN 44556677."}))
		v := newVisitor(t)
		pe.signIn(v, linkA, rcpt)
		if p := v.get(linkA + "/m"); p.status != 200 {
			t.Fatalf("A: %d", p.status)
		}
		// A's session under B's cookie name: B does not open.
		thief := newVisitor(t)
		for _, c := range v.cookies {
			cp := *c
			cp.Name = "sp-" + portalIDOf(t, pe, idB)
			thief.cookies[cp.Name] = &cp
		}
		for _, path := range []string{"/m", "/m/body", "/a/0"} {
			if p := thief.get(linkB + path); p.status != 303 || strings.Contains(p.body, "benign") {
				t.Errorf("B%s with A's session: %d", path, p.status)
			}
		}

		// Per-recipient revoke of an unknown address names the field.
		if s, out := pe.do("POST", "/v1/messages/"+idA+"/revoke", pe.key, map[string]any{"recipient": "nobody@plain.example"}); s != 404 || !strings.Contains(problemFields(out), "recipient") {
			t.Errorf("revoke unknown recipient: %d %v", s, out)
		}
		// Another tenant cannot revoke it.
		_, otherKey := pe.addTenant("other", "other.example")
		if s, _ := pe.do("POST", "/v1/messages/"+idA+"/revoke", otherKey, nil); s != 404 {
			t.Errorf("other tenant revokes: %d", s)
		}
		s, out := pe.do("POST", "/v1/messages/"+idA+"/revoke", pe.key, map[string]any{"recipient": rcpt})
		if s != 200 || out["recipients"].([]any)[0].(map[string]any)["outcome"] != "revoked" {
			t.Fatalf("revoke: %d %v", s, out)
		}
		for _, path := range []string{"", "/m", "/a/0", "/code"} {
			p := v.get(linkA + path)
			if p.status != 404 || !strings.Contains(p.body, "not available") || strings.Contains(p.body, "potassium") || strings.Contains(p.body, "revoked") {
				t.Errorf("revoked A%s: %d\n%s", path, p.status, p.body)
			}
		}
		var key, content []byte
		pe.srv.DB.SQL().QueryRow("SELECT content_key, content FROM portal_messages WHERE message_id = $1", idA).Scan(&key, &content)
		if key != nil || content != nil {
			t.Error("revoked copy still has its key or content")
		}
		pe.srv.DB.SQL().QueryRow("SELECT content FROM messages WHERE id = $1", idA).Scan(&content)
		if content != nil {
			t.Error("the message's own content outlives its last portal copy")
		}
		if s, out := pe.do("POST", "/v1/messages/"+idA+"/revoke", pe.key, nil); s != 200 || out["recipients"].([]any)[0].(map[string]any)["outcome"] != "already_revoked" {
			t.Errorf("second revoke: %d %v", s, out)
		}
		if n := len(pe.events("message=" + idA + "&type=portal.revoked")); n != 1 {
			t.Errorf("portal.revoked events: %d", n)
		}

		// Expiry: beyond the bound is refused with the field; within is applied.
		if s, out := pe.do("PATCH", "/v1/messages/"+idB+"/portal", pe.key, map[string]any{"expires_in": "10000h"}); s != 422 || !strings.Contains(problemFields(out), "expires_in") {
			t.Errorf("expiry beyond the bound: %d %v", s, out)
		}
		if s, out := pe.do("PATCH", "/v1/messages/"+idB+"/portal", pe.key, map[string]any{"expires_at": time.Now().Add(-time.Hour)}); s != 422 || !strings.Contains(problemFields(out), "expires_at") {
			t.Errorf("expiry in the past: %d %v", s, out)
		}
		s, out = pe.do("PATCH", "/v1/messages/"+idB+"/portal", pe.key, map[string]any{"expires_in": "48h"})
		if s != 200 || len(out["copies"].([]any)) != 1 {
			t.Fatalf("expiry change: %d %v", s, out)
		}
		_, list := pe.do("GET", "/v1/messages/"+idB+"/portal", pe.key, nil)
		c := list["copies"].([]any)[0].(map[string]any)
		exp, _ := time.Parse(time.RFC3339, c["expires_at"].(string))
		if c["state"] != "readable" || exp.Before(time.Now().Add(47*time.Hour)) || exp.After(time.Now().Add(49*time.Hour)) {
			t.Errorf("copy after expiry change: %v", c)
		}
		// Time passes: the sweeper destroys B.
		pe.srv.DB.SQL().Exec("UPDATE portal_messages SET expires_at = 1 WHERE message_id = $1", idB)
		if n, err := pe.srv.Portal.Sweep(context.Background()); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if p := v.get(linkB); p.status != 404 {
			t.Errorf("expired B: %d", p.status)
		}
		if n := len(pe.events("message=" + idB + "&type=portal.expired")); n != 1 {
			t.Errorf("portal.expired events: %d", n)
		}
		_, list = pe.do("GET", "/v1/messages/"+idB+"/portal", pe.key, nil)
		if st := list["copies"].([]any)[0].(map[string]any)["state"]; st != "expired" {
			t.Errorf("state after sweep: %v", st)
		}
	})
}

func portalIDOf(t *testing.T, pe *portalEnv, messageID string) string {
	var id string
	if err := pe.srv.DB.SQL().QueryRow("SELECT id FROM portal_messages WHERE message_id = $1", messageID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPortalRevokeBeforeDelivery: revoking a message still queued cancels it. The
// process runs the API role only, so no worker can claim the copy before the revoke.
func TestPortalRevokeBeforeDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, func(c *config.Config) { c.Roles = "api" })
		s, res := pe.send(pe.key, portalMessage("pat@slow.example", nil))
		if s != 202 {
			t.Fatal(s)
		}
		id := res["id"].(string)
		s, out := pe.do("POST", "/v1/messages/"+id+"/revoke", pe.key, nil)
		if s != 200 || out["recipients"].([]any)[0].(map[string]any)["outcome"] != "cancelled" {
			t.Fatalf("revoke queued: %d %v", s, out)
		}
		_, m := pe.do("GET", "/v1/messages/"+id, pe.key, nil)
		if st := m["recipients"].([]any)[0].(map[string]any)["status"]; st != "revoked" {
			t.Errorf("status after revoke: %v", st)
		}
		var content []byte
		pe.srv.DB.SQL().QueryRow("SELECT content FROM messages WHERE id = $1", id).Scan(&content)
		if content != nil {
			t.Error("a message revoked before delivery keeps its content")
		}
	})
}

// TestPortalPassphrase: a sender's passphrase replaces the emailed code.
func TestPortalPassphrase(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), nil)
	const rcpt = "pp@plain.example"
	if s, out := pe.send(pe.key, portalMessage(rcpt, map[string]any{"portal": map[string]any{"passphrase": "short"}})); s != 400 || !strings.Contains(problemFields(out), "portal.passphrase") {
		t.Errorf("short passphrase: %d %v", s, out)
	}
	if s, out := pe.send(pe.key, portalMessage(rcpt, map[string]any{"portal": map[string]any{"expires_in": "9000h"}})); s != 422 || !strings.Contains(problemFields(out), "portal.expires_in") {
		t.Errorf("expiry beyond bounds: %d %v", s, out)
	}
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, map[string]any{"portal": map[string]any{"passphrase": "blue heron 1987", "expires_in": "72h"}}))
	v := newVisitor(t)
	land := v.get(link)
	if !strings.Contains(land.body, `name="passphrase"`) || strings.Contains(land.body, "Email me a code") {
		t.Fatalf("landing does not ask for the passphrase:\n%s", land.body)
	}
	if p := v.post(link+"/code", nil); p.status != 303 || mailTo(pe.plain, rcpt, "access code") != nil {
		t.Errorf("a code was offered for a passphrase copy: %d", p.status)
	}
	if p := v.post(link+"/passphrase", url.Values{"passphrase": {"blue heron 1988"}}); p.status != 401 || len(v.cookies) != 0 {
		t.Fatalf("wrong passphrase: %d", p.status)
	}
	if p := v.post(link+"/passphrase", url.Values{"passphrase": {"blue heron 1987"}}); p.status != 303 {
		t.Fatalf("right passphrase: %d", p.status)
	}
	if p := v.get(link + "/m"); p.status != 200 || !strings.Contains(p.body, "potassium") {
		t.Fatalf("message after passphrase: %d", p.status)
	}
	var hash []byte
	pe.srv.DB.SQL().QueryRow("SELECT passphrase_hash FROM portal_messages").Scan(&hash)
	if len(hash) == 0 || strings.Contains(string(hash), "heron") {
		t.Error("passphrase not stored as a hash")
	}
}

// TestPortalSettings: branding and the notice template are validated with field paths
// and used.
func TestPortalSettings(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), nil)
	svg := base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"logo": svg}, "logo"},
		{map[string]any{"max_expiry": "100000h"}, "max_expiry"},
		{map[string]any{"default_expiry": "200h", "max_expiry": "100h"}, "default_expiry"},
		{map[string]any{"notification": map[string]any{"subject": "Hi", "text": "See {{link}} about {{patient_name}}"}}, "notification.text"},
		{map[string]any{"notification": map[string]any{"subject": "Hi", "text": "no link here"}}, "notification.text"},
		{map[string]any{"display_name": strings.Repeat("x", 101)}, "display_name"},
	} {
		if s, out := pe.do("PUT", "/v1/portal/settings", pe.key, c.body); s != 422 || !strings.Contains(problemFields(out), c.field) {
			t.Errorf("%v: %d %v, want 422 naming %s", c.body, s, out, c.field)
		}
	}
	s, out := pe.do("PUT", "/v1/portal/settings", pe.key, map[string]any{"display_name": "Northside Clinic", "logo": base64.StdEncoding.EncodeToString(tinyPNG()),
		"default_expiry": "168h", "max_expiry": "336h",
		"notification": map[string]any{"subject": "A secure message from {{organization}}", "text": "Hello,\n\n{{organization}} sent you a secure message: {{link}}\nIt is available until {{expires_at}}.\n"}})
	if s != 200 {
		t.Fatalf("settings: %d %v", s, out)
	}
	const rcpt = "brand@plain.example"
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
	notice := mailTo(pe.plain, rcpt, "/p/")[0]
	if !strings.Contains(notice, "Northside Clinic sent you a secure message") {
		t.Errorf("notice ignores the template:\n%s", notice)
	}
	land := newVisitor(t).get(link)
	if !strings.Contains(land.body, "Northside Clinic") || !strings.Contains(land.body, "/logo") {
		t.Errorf("landing lacks the brand:\n%s", land.body)
	}
	if p := newVisitor(t).get(link + "/logo"); p.status != 200 || p.header.Get("Content-Type") != "image/png" {
		t.Errorf("logo: %d %s", p.status, p.header.Get("Content-Type"))
	}
	if s, out := pe.send(pe.key, portalMessage(rcpt, map[string]any{"portal": map[string]any{"expires_in": "400h"}})); s != 422 {
		t.Errorf("expiry beyond the tenant's max: %d %v", s, out)
	}
}
