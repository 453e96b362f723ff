package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestJourneysPage: a marketer creates a journey from its JSON on the dashboard —
// a definition with mistakes is given back with every problem listed by path —
// activates it, and after an event sees the step counts the report gives. A viewer
// is refused by page and by forged POST. No console message, no CSP violation, no
// outside request, and axe-core finds nothing.
func TestJourneysPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel() // the two databases' walks share nothing
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		b := browsertest.Start(t)
		if b == nil {
			return
		}
		w := watchBrowser(t, b)
		axe := ""
		if strings.HasPrefix(dbURL, "sqlite:") {
			axe = browsertest.AxeSource(t)
		}
		signIn := func(email, role string) {
			t.Helper()
			b.Navigate(e.invite(ten, email, role))
			b.Fill("#password", "violet kettle harbour")
			b.Fill("#confirm", "violet kettle harbour")
			b.Click(`button[type=submit]`)
			b.Fill("#code", e.code(strings.TrimSpace(b.Text("code.secret"))))
			b.Click(`button[type=submit]`)
		}
		visit := func(path string) {
			t.Helper()
			b.Navigate(e.base + path)
			w.check(t, b, e.base, path)
			browsertest.CheckAxe(t, b, axe, path)
		}
		signIn("marketer@clinic.example", people.RoleMarketer)
		visit("/app/journeys")
		if !strings.Contains(b.Text("main"), "No journeys yet") {
			t.Fatalf("empty page:\n%s", b.Text("main"))
		}
		b.Fill("#definition", `{"name": "", "from": "care@clinic.example", "trigger": {"event": "x"}, "steps": [{"id": "w", "type": "wait"}]}`)
		b.Click(`form[action="/app/journeys"] button`)
		w.check(t, b, e.base, "refused")
		browsertest.CheckAxe(t, b, axe, "refused")
		if main := b.Text("main"); !strings.Contains(main, "name:") || !strings.Contains(main, "steps[0].duration:") {
			t.Fatalf("problems not listed:\n%s", main)
		}
		def, _ := json.Marshal(map[string]any{"name": "Refills", "from": "care@clinic.example", "trigger": map[string]any{"event": "refill_due"},
			"steps": []any{map[string]any{"id": "hi", "type": "send", "subject": "Hi", "text": "Hello"}, map[string]any{"id": "end", "type": "exit"}}})
		b.Fill("#definition", string(def))
		b.Click(`form[action="/app/journeys"] button`)
		if !strings.Contains(b.Text("main"), "created as a draft") {
			t.Fatalf("not created:\n%s", b.Text("main"))
		}
		b.Click(`form[action$="/activate"] button`)
		if !strings.Contains(b.Text("main"), "is now active") {
			t.Fatalf("not activated:\n%s", b.Text("main"))
		}
		_, list := e.api("GET", "/v1/journeys", key, nil)
		id := list["journeys"].([]any)[0].(map[string]any)["id"].(string)
		_, ct := e.api("POST", "/v1/contacts", key, map[string]any{"email": "pat@patient.example"})
		if s, out := e.api("POST", "/v1/journeys/events", key, map[string]any{"contact": ct["id"], "event": "refill_due", "idempotency_key": "k1"}); s != 201 {
			t.Fatalf("event: %d %v", s, out)
		}
		// The run is at its first step; taking it refuses the send (no consent) and
		// the page counts what the report counts.
		if _, err := e.srv.Journeys.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		visit("/app/journeys")
		if row := b.Text("tbody tr"); !strings.HasPrefix(strings.Join(strings.Fields(row), " "), "hi send 1 0 0 0") {
			t.Fatalf("step counts: %q", row)
		}
		// A viewer (accepting an invitation in the same browser): no page, and a
		// forged POST is refused.
		signIn("viewer@clinic.example", people.RoleViewer)
		b.Navigate(e.base + "/app/journeys")
		if !strings.Contains(b.Text("main"), "does not allow") {
			t.Fatalf("viewer's page:\n%s", b.Text("main"))
		}
		var cookie string
		for _, c := range b.Cookies(e.base) {
			if c.Name == "__Host-sealpost" {
				cookie = c.Value
			}
		}
		if s, _ := e.form(cookie, "/app/journeys/"+id+"/pause", url.Values{}); s != 403 {
			t.Fatalf("viewer's forged pause: %d", s)
		}
	})
}

// journeyCases are the journey page's actions for TestEveryActionRefusedWithoutPermission:
// a draft journey (activate, archive) and an active one (pause), neither changed by a
// role without the marketing scope.
func journeyCases(t *testing.T, e *env, key string) map[string]ruleCase {
	t.Helper()
	mk := func(name string) string {
		def := map[string]any{"name": name, "from": "care@clinic.example", "trigger": map[string]any{"event": "refill_due"},
			"steps": []any{map[string]any{"id": "hi", "type": "send", "subject": "Hi", "text": "Hello"}, map[string]any{"id": "end", "type": "exit"}}}
		s, out := e.api("POST", "/v1/journeys", key, def)
		if s != 201 {
			t.Fatalf("create journey: %d %v", s, out)
		}
		return out["id"].(string)
	}
	draft, active := mk("Refills"), mk("Check-ups")
	if s, out := e.api("POST", "/v1/journeys/"+active+"/activate", key, nil); s != 200 {
		t.Fatalf("activate: %d %v", s, out)
	}
	states := func() string {
		_, list := e.api("GET", "/v1/journeys", key, nil)
		var out []string
		for _, j := range list["journeys"].([]any) {
			m := j.(map[string]any)
			out = append(out, m["id"].(string)+":"+m["state"].(string))
		}
		return strings.Join(out, ",")
	}
	def := `{"name": "Forged", "from": "care@clinic.example", "trigger": {"event": "x"}, "steps": [{"id": "end", "type": "exit"}]}`
	return map[string]ruleCase{
		"POST /app/journeys": {people.RoleDeveloper, "POST", "/v1/journeys",
			"/app/journeys", "/app/journeys", "/app/journeys", url.Values{"definition": {def}}, states},
		"POST /app/journeys/{id}/activate": {people.RoleViewer, "POST", "/v1/journeys/{id}/activate",
			"/app/journeys", "/app/journeys/" + draft + "/activate", "/app/journeys/" + draft + "/activate", nil, states},
		"POST /app/journeys/{id}/archive": {people.RoleCompliance, "POST", "/v1/journeys/{id}/archive",
			"/app/journeys", "/app/journeys/" + draft + "/archive", "/app/journeys/" + draft + "/archive", nil, states},
		"POST /app/journeys/{id}/pause": {people.RoleDeveloper, "POST", "/v1/journeys/{id}/pause",
			"/app/journeys", "/app/journeys/" + active + "/pause", "/app/journeys/" + active + "/pause", nil, states},
	}
}
