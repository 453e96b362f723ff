package server_test

import (
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestTemplates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		s, tpl := e.do("POST", "/v1/templates", e.key, map[string]any{
			"name": "results", "subject": "Results for {{patient.first}}",
			"text": "Hello {{patient.first}}, see {{link}}", "html": "<p>Hello {{patient.first}}</p>",
		})
		if s != 201 {
			t.Fatalf("create: %d %v", s, tpl)
		}
		id := tpl["id"].(string)
		if s, p := e.do("POST", "/v1/templates", e.key, map[string]any{"name": "bad", "subject": "x", "text": "Hello {{#open}}"}); s != 422 || !hasField(p, "text") {
			t.Fatalf("syntax error: %d %v", s, p)
		}
		send := func(data map[string]any) (int, map[string]any) {
			return e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "pat@patient.example", "template_id": id, "template_data": data})
		}
		if s, p := send(map[string]any{"link": "x"}); s != 422 || !hasField(p, "template_data.patient.first") || !strings.Contains(p["detail"].(string), "patient.first") {
			t.Fatalf("missing variable: %d %v", s, p)
		}
		s, res := send(map[string]any{"patient": map[string]any{"first": "<script>Pat</script>"}, "link": "https://x.example"})
		if s != 202 {
			t.Fatalf("send: %d %v", s, res)
		}
		e.waitFinal(res["id"].(string))
		raw := string(e.rcv.Messages()[0].Data)
		if !strings.Contains(raw, "&lt;script&gt;Pat&lt;/script&gt;") || strings.Contains(raw, "<p>Hello <script>") {
			t.Fatalf("HTML not escaped:\n%s", raw)
		}
		if !strings.Contains(raw, "Subject: Results for <script>Pat</script>") {
			t.Fatalf("subject not rendered as text:\n%s", raw)
		}
		if s, _ := e.do("PUT", "/v1/templates/"+id, e.key, map[string]any{"name": "results2", "subject": "S", "text": "T"}); s != 200 {
			t.Fatalf("update: %d", s)
		}
		_, list := e.do("GET", "/v1/templates", e.key, nil)
		if ts := list["templates"].([]any); len(ts) != 1 || ts[0].(map[string]any)["name"] != "results2" {
			t.Fatalf("list: %v", ts)
		}
		if s, _ := e.do("DELETE", "/v1/templates/"+id, e.key, nil); s != 204 {
			t.Fatalf("delete: %d", s)
		}
		if s, _ := e.do("GET", "/v1/templates/"+id, e.key, nil); s != 404 {
			t.Fatalf("deleted template: %d", s)
		}
	})
}
