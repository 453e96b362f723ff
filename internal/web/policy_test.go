package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestPolicyFromPages: broken JSON and an invalid policy are refused with every
// problem named by its field path; a valid one is saved through the service the API
// uses; a draft is previewed by the pipeline's own preview, storing nothing. A
// developer may preview but sees no editor.
func TestPolicyFromPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		admin := e.person(ten, "admin@clinic.example", people.RoleAdmin)
		_, page := e.page(admin, "/app/policy")
		if !strings.Contains(page, `action="/app/policy"`) || !strings.Contains(page, "Version 0") {
			t.Fatalf("policy page:\n%s", page)
		}
		csrf := formToken(t, page)
		if s, body := e.form(admin, "/app/policy", url.Values{"csrf": {csrf}, "policy": {`{"rules": [`}}); s != 422 || !strings.Contains(body, `id="problems"`) {
			t.Fatalf("broken JSON: %d\n%s", s, body)
		}
		bad := `{"rules": [{"if": {"categories": ["nonsense"]}, "then": {"action": "block"}}], "dlp": {"regexps": ["(unclosed"]}}`
		s, body := e.form(admin, "/app/policy", url.Values{"csrf": {csrf}, "policy": {bad}})
		if s != 422 || !strings.Contains(body, "<code>rules[0].if.categories[0]</code>") || !strings.Contains(body, "<code>dlp.regexps[0]</code>") {
			t.Fatalf("invalid policy: %d\n%s", s, body)
		}
		if strings.Contains(body, "Version 1") {
			t.Fatal("an invalid policy was saved")
		}
		good := `{"rules": [{"name": "review", "if": {"tags": ["review"]}, "then": {"action": "quarantine"}}]}`
		if s, body := e.form(admin, "/app/policy", url.Values{"csrf": {csrf}, "policy": {good}}); s != 303 {
			t.Fatalf("save: %d\n%s", s, body)
		}
		if s, out := e.api("GET", "/v1/policy", key, nil); s != 200 || out["version"].(float64) != 1 {
			t.Fatalf("API reads: %d %v", s, out)
		}
		before := messageCount(t, e)
		s, body = e.form(admin, "/app/policy/preview", url.Values{"csrf": {csrf}, "from": {"billing@clinic.example"}, "to": {"accounts@partner.example"},
			"subject": {"Statement"}, "text": {"The statement."}, "tags": {"review"}})
		if s != 200 || !strings.Contains(body, "Outcome: quarantine") {
			t.Fatalf("preview: %d\n%s", s, body)
		}
		if s, body := e.form(admin, "/app/policy/preview", url.Values{"csrf": {csrf}, "from": {"billing@elsewhere.example"}, "to": {"not an address"}}); s != 422 ||
			!strings.Contains(body, "<code>to[0]</code>") {
			t.Fatalf("bad draft: %d\n%s", s, body)
		}
		if messageCount(t, e) != before {
			t.Fatal("a preview stored a message")
		}
		if n := auditCount(t, e, ten, "PUT /v1/policy"); n != 1 {
			t.Errorf("%d audit entries for the save", n)
		}
		dev := e.person(ten, "dev@clinic.example", people.RoleDeveloper)
		if s, page := e.page(dev, "/app/policy"); s != 200 || strings.Contains(page, `action="/app/policy"`) || !strings.Contains(page, `action="/app/policy/preview"`) {
			t.Errorf("a developer's policy page: %d\n%s", s, page)
		}
	})
}

func messageCount(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM messages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// policyCases are the policy page's actions for the rules test.
func policyCases(t *testing.T, e *env, key string) map[string]ruleCase {
	state := func() string {
		_, out := e.api("GET", "/v1/policy", key, nil)
		return fmt.Sprint(out, messageCount(t, e))
	}
	return map[string]ruleCase{
		"POST /app/policy": {people.RoleDeveloper, "PUT", "/v1/policy",
			"/app/policy", "/app/policy", "/app/policy", url.Values{"policy": {`{"rules": []}`}}, state},
		"POST /app/policy/preview": {people.RoleCompliance, "POST", "/v1/policy/preview",
			"/app/policy", "/app/policy/preview", "/app/policy/preview", url.Values{"from": {"lab@clinic.example"}, "to": {"p@patient.example"}}, state},
	}
}
