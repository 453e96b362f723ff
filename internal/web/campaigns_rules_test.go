package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/tenant/people"
)

// campaignCases are the campaign page's actions for TestEveryActionRefusedWithoutPermission:
// one campaign in each state that offers an action (draft: approve and cancel;
// approved: schedule; scheduled far ahead: pause; paused: resume), none changed by a
// role without the marketing scope.
func campaignCases(t *testing.T, e *env, tenantID, key string) map[string]ruleCase {
	t.Helper()
	ctx := context.Background()
	_, ls := e.api("POST", "/v1/lists", key, map[string]any{"name": "News"})
	mk := func(name string) string {
		s, out := e.api("POST", "/v1/campaigns", key, map[string]any{"name": name, "from": "news@clinic.example", "subject": "s", "text": "t",
			"lists": []any{ls["id"]}, "schedule": map[string]any{"send_at": "2099-01-01T09:00:00Z"}})
		if s != 201 {
			t.Fatalf("create campaign: %d %v", s, out)
		}
		return out["id"].(string)
	}
	step := func(id string, acts ...string) {
		for _, a := range acts {
			var err error
			switch a {
			case "approve":
				_, err = e.srv.Campaigns.Approve(ctx, tenantID, id, "user:approver", nil)
			case "schedule":
				_, err = e.srv.Campaigns.Schedule(ctx, tenantID, id, "user:approver", nil)
			case "pause":
				_, err = e.srv.Campaigns.Pause(ctx, tenantID, id, "user:approver", nil)
			}
			if err != nil {
				t.Fatalf("%s %s: %v", a, id, err)
			}
		}
	}
	draft, approved, scheduled, paused := mk("Draft"), mk("Approved"), mk("Scheduled"), mk("Paused")
	step(approved, "approve")
	step(scheduled, "approve", "schedule")
	step(paused, "approve", "schedule", "pause")
	states := func() string {
		_, list := e.api("GET", "/v1/campaigns", key, nil)
		var out []string
		for _, c := range list["campaigns"].([]any) {
			m := c.(map[string]any)
			out = append(out, m["id"].(string)+":"+m["state"].(string))
		}
		return strings.Join(out, ",")
	}
	act := func(id, a string) string { return "/app/campaigns/" + id + "/" + a }
	return map[string]ruleCase{
		"POST /app/campaigns": {people.RoleDeveloper, "POST", "/v1/campaigns",
			"/app/campaigns", "/app/campaigns", "/app/campaigns",
			url.Values{"name": {"Forged"}, "from": {"news@clinic.example"}, "subject": {"s"}, "text": {"t"}, "lists": {ls["id"].(string)}}, states},
		"POST /app/campaigns/{id}/approve": {people.RoleViewer, "POST", "/v1/campaigns/{id}/approve",
			"/app/campaigns", act(draft, "approve"), act(draft, "approve"), nil, states},
		"POST /app/campaigns/{id}/cancel": {people.RoleCompliance, "POST", "/v1/campaigns/{id}/cancel",
			"/app/campaigns", act(draft, "cancel"), act(draft, "cancel"), nil, states},
		"POST /app/campaigns/{id}/schedule": {people.RoleDeveloper, "POST", "/v1/campaigns/{id}/schedule",
			"/app/campaigns", act(approved, "schedule"), act(approved, "schedule"), nil, states},
		"POST /app/campaigns/{id}/pause": {people.RoleViewer, "POST", "/v1/campaigns/{id}/pause",
			"/app/campaigns", act(scheduled, "pause"), act(scheduled, "pause"), nil, states},
		"POST /app/campaigns/{id}/resume": {people.RoleCompliance, "POST", "/v1/campaigns/{id}/resume",
			"/app/campaigns", act(paused, "resume"), act(paused, "resume"), nil, states},
	}
}
