package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestTemplatesFromPages: a developer previews a draft (rendered by the sending
// renderer, a missing variable named, HTML escaped), is refused a broken one by field,
// saves it through the template service, reads it back from the API, edits it and
// deletes it.
func TestTemplatesFromPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		dev := e.person(ten, "dev@clinic.example", people.RoleDeveloper)
		s, page := e.page(dev, "/app/templates/new")
		if s != 200 {
			t.Fatalf("new: %d", s)
		}
		csrf := formToken(t, page)
		form := func(v url.Values) url.Values {
			v.Set("csrf", csrf)
			return v
		}
		s, body := e.form(dev, "/app/templates", form(url.Values{"action": {"preview"}, "name": {"Reminder"}, "subject": {"Hello {{first_name}}"},
			"text": {"See you {{appointment}}."}, "html": {"<p>Hi {{first_name}}</p>"}, "data": {`{"first_name": "<Alex>"}`}}))
		if s != 200 || !strings.Contains(body, "Hello &lt;Alex&gt;") || !strings.Contains(body, "missing appointment") || !strings.Contains(body, "&amp;lt;Alex&amp;gt;") {
			t.Fatalf("preview: %d\n%s", s, body)
		}
		if messageCount(t, e) != 0 {
			t.Fatal("a preview stored something")
		}
		if s, body := e.form(dev, "/app/templates", form(url.Values{"action": {"save"}, "name": {""}, "text": {"Hi {{first_name"}})); s != 422 ||
			!strings.Contains(body, "<code>name</code>") || !strings.Contains(body, "<code>text</code>") {
			t.Fatalf("broken template: %d\n%s", s, body)
		}
		if s, body := e.form(dev, "/app/templates", form(url.Values{"action": {"save"}, "name": {"Reminder"}, "subject": {"Your appointment"}, "text": {"See you {{appointment}}."}})); s != 303 {
			t.Fatalf("save: %d\n%s", s, body)
		}
		s, out := e.api("GET", "/v1/templates", key, nil)
		ts, _ := out["templates"].([]any)
		if s != 200 || len(ts) != 1 || ts[0].(map[string]any)["text"] != "See you {{appointment}}." {
			t.Fatalf("API reads: %d %v", s, out)
		}
		id := ts[0].(map[string]any)["id"].(string)
		if s, _ := e.form(dev, "/app/templates/"+id, form(url.Values{"action": {"save"}, "name": {"Reminder v2"}, "subject": {"Your appointment"}, "text": {"Until {{appointment}}."}})); s != 303 {
			t.Fatalf("edit: %d", s)
		}
		if _, out := e.api("GET", "/v1/templates/"+id, key, nil); out["name"] != "Reminder v2" {
			t.Fatalf("after edit: %v", out)
		}
		if s, _ := e.form(dev, "/app/templates/"+id+"/delete", form(url.Values{})); s != 303 {
			t.Fatalf("delete: %d", s)
		}
		if s, _ := e.api("GET", "/v1/templates/"+id, key, nil); s != 404 {
			t.Fatalf("deleted template: %d", s)
		}
		for action, want := range map[string]int{"POST /v1/templates": 1, "PUT /v1/templates/{id}": 1, "DELETE /v1/templates/{id}": 1} {
			if n := auditCount(t, e, ten, action); n != want {
				t.Errorf("%d audit entries for %s", n, action)
			}
		}
	})
}

// templateCases are the template pages' actions for the rules test.
func templateCases(t *testing.T, e *env, key string) map[string]ruleCase {
	s, out := e.api("POST", "/v1/templates", key, map[string]any{"name": "Reminder", "subject": "Your appointment", "text": "See you {{appointment}}."})
	if s != 201 {
		t.Fatalf("template: %d %v", s, out)
	}
	id := out["id"].(string)
	state := func() string {
		_, out := e.api("GET", "/v1/templates", key, nil)
		return fmt.Sprint(out["templates"])
	}
	v := url.Values{"action": {"save"}, "name": {"Forged"}, "text": {"x"}}
	return map[string]ruleCase{
		"POST /app/templates": {people.RoleViewer, "POST", "/v1/templates", "/app/templates/new", "/app/templates", "/app/templates", v, state},
		"POST /app/templates/{id}": {people.RoleCompliance, "PUT", "/v1/templates/{id}",
			"/app/templates/" + id, "/app/templates/" + id, "/app/templates/" + id, v, state},
		"POST /app/templates/{id}/delete": {people.RoleViewer, "DELETE", "/v1/templates/{id}",
			"/app/templates", "/app/templates/" + id + "/delete", "/app/templates/" + id + "/delete", nil, state},
	}
}
