package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// sendOne sends a message that is not held.
func (e *env) sendOne(key string) string {
	e.t.Helper()
	s, out := e.api("POST", "/v1/messages", key, map[string]any{"from": "Lab <lab@clinic.example>", "to": []string{"pat@patient.example"},
		"subject": "Your results are ready", "text": "Please sign in to read them."})
	if s != 202 {
		e.t.Fatalf("send: %d %v", s, out)
	}
	return out["id"].(string)
}

// held sends a message the tenant's policy quarantines (its tag asks for review).
func (e *env) held(key string) string {
	e.t.Helper()
	pol := map[string]any{"rules": []any{map[string]any{"name": "review", "if": map[string]any{"tags": []string{"review"}}, "then": map[string]any{"action": "quarantine"}}}}
	if s, out := e.api("PUT", "/v1/policy", key, pol); s != 200 {
		e.t.Fatalf("policy: %d %v", s, out)
	}
	s, out := e.api("POST", "/v1/messages", key, map[string]any{"from": "Billing <billing@clinic.example>", "to": []string{"accounts@partner.example"},
		"subject": "Statement for review", "text": "The quarterly statement is attached for review.", "tags": []string{"review"}})
	if s != 202 || out["status"] != "quarantined" {
		e.t.Fatalf("held send: %d %v", s, out)
	}
	return out["id"].(string)
}

// TestQuarantineFromPages releases one held message from its page and deletes another
// from the quarantine list, as an administrator: the same service as the API, the
// same events and audit entries, and a second action finds the message no longer held.
func TestQuarantineFromPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ctx := context.Background()
		ten, key := e.addTenant("northside", "clinic.example")
		a, b := e.held(key), e.held(key)
		admin := e.person(ten, "admin@clinic.example", people.RoleAdmin)
		s, list := e.page(admin, "/app/quarantine")
		if s != 200 || !strings.Contains(list, "Statement for review") || !strings.Contains(list, `action="/app/messages/`+a+`/release"`) {
			t.Fatalf("quarantine list: %d\n%s", s, list)
		}
		s, page := e.page(admin, "/app/messages/"+a)
		if s != 200 || !strings.Contains(page, `action="/app/messages/`+a+`/release"`) || !strings.Contains(page, `action="/app/messages/`+a+`/delete"`) {
			t.Fatalf("message page offers no release: %d\n%s", s, page)
		}
		csrf := url.Values{"csrf": {formToken(t, page)}}

		if s, _ := e.form(admin, "/app/messages/"+a+"/release", csrf); s != 303 {
			t.Fatalf("release: %d", s)
		}
		if m, _ := e.srv.DB.Message(ctx, ten, a); m.Quarantined {
			t.Fatal("released message still held")
		}
		del := url.Values{"csrf": csrf["csrf"], "back": {"list"}}
		if s, _ := e.form(admin, "/app/messages/"+b+"/delete", del); s != 303 {
			t.Fatalf("delete: %d", s)
		}
		var content []byte
		_ = e.srv.DB.SQL().QueryRow("SELECT content FROM messages WHERE id = $1", b).Scan(&content)
		if content != nil {
			t.Fatal("deleted message's content kept")
		}
		// Released or deleted once only; the API agrees.
		if s, _ := e.form(admin, "/app/messages/"+a+"/delete", csrf); s != 303 {
			t.Fatalf("delete after release: %d", s)
		}
		if m, _ := e.srv.DB.Message(ctx, ten, a); m.Content == nil {
			t.Fatal("a released message was deleted")
		}
		if s, _ := e.api("POST", "/v1/messages/"+b+"/release", key, nil); s != 409 {
			t.Fatalf("API release of a deleted message: %d", s)
		}
		_, msg := e.page(admin, "/app/messages/"+b)
		if !strings.Contains(msg, "deleted from quarantine") {
			t.Errorf("timeline does not show the deletion:\n%s", msg)
		}
		for action, want := range map[string]int{"POST /v1/messages/{id}/release": 2, "DELETE /v1/messages/{id}": 2} {
			if n := auditCount(t, e, ten, action); n != want {
				t.Errorf("%d audit entries for %s, want %d (API and page alike)", n, action, want)
			}
		}
		if s, list := e.page(admin, "/app/quarantine"); s != 200 || !strings.Contains(list, "Nothing is held") {
			t.Errorf("quarantine list after: %d\n%s", s, list)
		}
	})
}
