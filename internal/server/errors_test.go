package server_test

import (
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
