package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/sealpost/sealpost/internal/tenant/people"
)

// archiveCases are the archive page's actions for TestEveryActionRefusedWithoutPermission:
// a search (audited, so a refused one leaves no entry), a hold and a retention rule
// placed and removed, none done for a role without the archive scope.
func archiveCases(t *testing.T, e *env, tenantID, key string) map[string]ruleCase {
	t.Helper()
	s, hold := e.api("POST", "/v1/archive/holds", key, map[string]any{"name": "matter", "query": map[string]any{"subject": "x"}})
	if s != 201 {
		t.Fatalf("hold: %d %v", s, hold)
	}
	s, rule := e.api("PUT", "/v1/archive/retention", key, map[string]any{"tag": "x", "days": 30})
	if s/100 != 2 {
		t.Fatalf("rule: %d %v", s, rule)
	}
	holds := func() string {
		_, h := e.api("GET", "/v1/archive/holds", key, nil)
		return fmt.Sprint(h)
	}
	rules := func() string {
		_, r := e.api("GET", "/v1/archive/retention", key, nil)
		return fmt.Sprint(r)
	}
	searches := func() string { return fmt.Sprint(auditCount(t, e, tenantID, "archive.search")) }
	hp := "/app/archive/holds/" + hold["id"].(string) + "/release"
	rp := "/app/archive/retention/" + rule["id"].(string) + "/delete"
	return map[string]ruleCase{
		"POST /app/archive/search": {people.RoleViewer, "POST", "/v1/archive/search",
			"/app/archive", "/app/archive/search", "/app/archive/search", url.Values{"subject": {"results"}}, searches},
		"POST /app/archive/holds": {people.RoleDeveloper, "POST", "/v1/archive/holds",
			"/app/archive", "/app/archive/holds", "/app/archive/holds", url.Values{"name": {"forged"}, "subject": {"x"}}, holds},
		"POST /app/archive/holds/{id}/release": {people.RoleMarketer, "POST", "/v1/archive/holds/{id}/release",
			"/app/archive", hp, hp, nil, holds},
		"POST /app/archive/retention": {people.RoleViewer, "PUT", "/v1/archive/retention",
			"/app/archive", "/app/archive/retention", "/app/archive/retention", url.Values{"days": {"1"}}, rules},
		"POST /app/archive/retention/{id}/delete": {people.RoleDeveloper, "DELETE", "/v1/archive/retention/{id}",
			"/app/archive", rp, rp, nil, rules},
	}
}
