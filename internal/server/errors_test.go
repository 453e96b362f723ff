package server_test

import (
	"fmt"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestBadFieldsAreNamedByTheirFullPath: nested fields are named from the document's
// root, and every bad field of one request is reported in the same answer.
func TestBadFieldsAreNamedByTheirFullPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		status, p := e.do("PUT", "/v1/policy", e.key, `{"rules":[{"if":{"categorys":["card"]},"then":{"action":"block"}}]}`)
		if status != 400 || !hasField(p, "rules[0].if.categorys") {
			t.Fatalf("misspelt policy condition: %d %v", status, p)
		}
		status, p = e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": 7, "text": "t",
			"security": map[string]any{"requires": "encrypted"}, "headers": []map[string]any{{"name": "X-A", "value": 1}}})
		if status != 400 || !hasField(p, "security.requires") || !hasField(p, "subject") || !hasField(p, "headers[0].value") {
			t.Fatalf("nested fields: %d %v", status, p)
		}
	})
}

// TestListsSayWhenMoreFollow: every paged list says whether another page follows, and
// walking the pages yields every item once.
func TestListsSayWhenMoreFollow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{roles: "api"})
		for i := range 3 {
			if s, p := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": fmt.Sprintf("p%d@patient.example", i), "subject": "s", "text": "t"}); s != 202 {
				t.Fatalf("send: %d %v", s, p)
			}
			if s, p := e.do("POST", "/v1/templates", e.key, map[string]any{"name": fmt.Sprint("t", i), "subject": "s", "text": "t"}); s != 201 {
				t.Fatalf("template: %d %v", s, p)
			}
		}
		// growing: the list gains items while it is read (reading the audit trail is audited).
		walk := func(path, items, cursorParam string, growing bool) {
			t.Helper()
			_, all := e.do("GET", path+"?limit=500", e.key, nil)
			want := len(all[items].([]any))
			if want < 3 || all["has_more"] != false {
				t.Fatalf("%s: %d items, has_more %v", path, want, all["has_more"])
			}
			seen, cursor := 0, ""
			for range 2 * want {
				q := path + "?limit=2"
				if cursor != "" {
					q += "&" + cursorParam + "=" + cursor
				}
				s, page := e.do("GET", q, e.key, nil)
				if s != 200 {
					t.Fatalf("%s: %d %v", q, s, page)
				}
				seen += len(page[items].([]any))
				if !growing && page["has_more"] != (seen < want) || growing && seen <= 2 && page["has_more"] != true {
					t.Fatalf("%s: has_more %v after %d of %d", q, page["has_more"], seen, want)
				}
				if page["has_more"] == false {
					break
				}
				cursor = page["next_cursor"].(string)
			}
			if seen != want && !(growing && seen > want) {
				t.Fatalf("%s: pages held %d items, want %d", path, seen, want)
			}
		}
		walk("/v1/events", "events", "cursor", false)
		walk("/v1/audit", "entries", "cursor", true)
		walk("/v1/templates", "templates", "cursor", false)
	})
}
