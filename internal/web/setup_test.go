package web_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// webhook makes an endpoint through the API and returns its id.
func (e *env) webhook(key, u string) string {
	e.t.Helper()
	s, out := e.api("POST", "/v1/webhooks", key, map[string]any{"url": u, "description": "Scheduling system"})
	if s != 201 {
		e.t.Fatalf("webhook: %d %v", s, out)
	}
	return out["id"].(string)
}

// settleWebhookJobs records an attempt for each queued webhook job, as the webhook
// worker would after trying it: the first delivered, the rest answered 503.
func (e *env) settleWebhookJobs() int {
	e.t.Helper()
	ctx := context.Background()
	jobs, err := e.srv.DB.ClaimWebhookJobs(ctx, "test", time.Now().Add(time.Minute), 100, time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := range jobs {
		a := &store.WebhookAttempt{At: time.Now(), Status: 200, Latency: 84 * time.Millisecond, Outcome: "delivered"}
		if i > 0 {
			a = &store.WebhookAttempt{At: time.Now(), Status: 503, Latency: 1200 * time.Millisecond, Error: "HTTP 503", Outcome: "retrying"}
		}
		if err := e.srv.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.RecordWebhookAttempt(ctx, j, a, time.Now().Add(time.Hour))
		}); err != nil {
			e.t.Fatal(err)
		}
	}
	return len(jobs)
}

func (e *env) webhookJobs() int {
	var n int
	if err := e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM webhook_jobs").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestWebhooksFromPages: an administrator adds an endpoint (a bad URL refused by its
// field path, the secret shown once), sees its attempts, replays one, disables it
// (a replay is then refused) and deletes it — each through the webhook service and
// audited as the API route it mirrors.
func TestWebhooksFromPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ctx := context.Background()
		ten, key := e.addTenant("northside", "clinic.example")
		admin := e.person(ten, "admin@clinic.example", people.RoleAdmin)
		_, page := e.page(admin, "/app/webhooks")
		csrf := formToken(t, page)

		s, body := e.form(admin, "/app/webhooks", url.Values{"csrf": {csrf}, "url": {"http://hooks.partner.example/in"}, "types": {"delivered", "nonsense"}})
		if s != 422 || !strings.Contains(body, "<code>url</code>") || !strings.Contains(body, "<code>types[1]</code>") {
			t.Fatalf("bad endpoint: %d\n%s", s, body)
		}
		s, body = e.form(admin, "/app/webhooks", url.Values{"csrf": {csrf}, "url": {"https://hooks.partner.example/in"}, "description": {"Scheduling system"}})
		if s != 200 || !strings.Contains(body, `id="secret"`) {
			t.Fatalf("create: %d\n%s", s, body)
		}
		es, err := e.srv.Webhooks.List(ctx, ten)
		if err != nil || len(es) != 1 || es[0].Types[0] != "*" {
			t.Fatalf("endpoints: %v %v", err, es)
		}
		id := es[0].ID
		if _, again := e.page(admin, "/app/webhooks"); strings.Contains(again, `id="secret"`) {
			t.Fatal("the secret is shown again")
		}

		e.sendOne(key)
		if n := e.settleWebhookJobs(); n == 0 {
			t.Fatal("no webhook jobs for a sent message")
		}
		_, page = e.page(admin, "/app/webhooks/"+id)
		if !strings.Contains(page, "delivered") || !strings.Contains(page, `action="/app/webhooks/`+id+`/replay"`) {
			t.Fatalf("attempts:\n%s", page)
		}
		ev := page[strings.Index(page, `name="event_id" value="`)+len(`name="event_id" value="`):]
		ev = ev[:strings.IndexByte(ev, '"')]
		before := e.webhookJobs()
		if s, _ := e.form(admin, "/app/webhooks/"+id+"/replay", url.Values{"csrf": {csrf}, "event_id": {ev}}); s != 303 {
			t.Fatalf("replay: %d", s)
		}
		if e.webhookJobs() != before+1 {
			t.Fatal("replay queued nothing")
		}
		if s, _ := e.form(admin, "/app/webhooks/"+id+"/enabled", url.Values{"csrf": {csrf}, "enabled": {"false"}}); s != 303 {
			t.Fatalf("disable: %d", s)
		}
		if ep, _ := e.srv.Webhooks.Get(ctx, ten, id); ep.Enabled {
			t.Fatal("still enabled")
		}
		if s, _ := e.form(admin, "/app/webhooks/"+id+"/replay", url.Values{"csrf": {csrf}, "event_id": {ev}}); s != 303 {
			t.Fatalf("replay when disabled: %d", s)
		}
		if _, p := e.page(admin, "/app/webhooks/"+id+"?done=refused"); !strings.Contains(p, "enable it before replaying") {
			t.Error("no refusal shown")
		}
		if s, _ := e.form(admin, "/app/webhooks/"+id+"/delete", url.Values{"csrf": {csrf}}); s != 303 {
			t.Fatalf("delete: %d", s)
		}
		if _, err := e.srv.Webhooks.Get(ctx, ten, id); err == nil {
			t.Fatal("not deleted")
		}
		for action, want := range map[string]int{"POST /v1/webhooks": 1, "PATCH /v1/webhooks/{id}": 1, "POST /v1/webhooks/{id}/replay": 2, "DELETE /v1/webhooks/{id}": 1} {
			if n := auditCount(t, e, ten, action); n != want {
				t.Errorf("%d audit entries for %s, want %d", n, action, want)
			}
		}
	})
}

// setupCases are the sending-setup pages' actions for TestEveryActionRefusedWithoutPermission.
func setupCases(t *testing.T, e *env, tenantID, key string) map[string]ruleCase {
	ctx := context.Background()
	hook := e.webhook(key, "https://hooks.partner.example/in")
	e.sendOne(key)
	e.settleWebhookJobs()
	hooks := func() string {
		ep, err := e.srv.Webhooks.Get(ctx, tenantID, hook)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(ep.Enabled, ep.URL, ep.Types, e.webhookJobs())
	}
	hp := "/app/webhooks/" + hook
	cases := keysBrandingCases(t, e, tenantID, key)
	for k, c := range policyCases(t, e, key) {
		cases[k] = c
	}
	for k, c := range templateCases(t, e, key) {
		cases[k] = c
	}
	cases["POST /app/domains/{domain}/dkim"] = dkimCase(t, e, tenantID)
	for k, c := range map[string]ruleCase{
		"POST /app/webhooks": {people.RoleDeveloper, "POST", "/v1/webhooks",
			"/app/webhooks", "/app/webhooks", "/app/webhooks", url.Values{"url": {"https://evil.example/x"}}, func() string {
				es, _ := e.srv.Webhooks.List(ctx, tenantID)
				return fmt.Sprint(len(es))
			}},
		"POST /app/webhooks/{id}/enabled": {people.RoleViewer, "PATCH", "/v1/webhooks/{id}",
			hp, hp + "/enabled", hp + "/enabled", url.Values{"enabled": {"false"}}, hooks},
		"POST /app/webhooks/{id}/replay": {people.RoleMarketer, "POST", "/v1/webhooks/{id}/replay",
			hp, hp + "/replay", hp + "/replay", url.Values{"event_id": {"ev_1"}}, hooks},
		"POST /app/webhooks/{id}/delete": {people.RoleCompliance, "DELETE", "/v1/webhooks/{id}",
			hp, hp + "/delete", hp + "/delete", nil, hooks},
	} {
		cases[k] = c
	}
	return cases
}

// TestDKIMFromDomainsPage: a new key is made from the domains page, its selector and
// exact record shown; a used selector is refused by name.
func TestDKIMFromDomainsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ctx := context.Background()
		ten, _ := e.addTenant("northside", "clinic.example")
		admin := e.person(ten, "admin@clinic.example", people.RoleAdmin)
		_, page := e.page(admin, "/app/domains")
		csrf := formToken(t, page)
		s, body := e.form(admin, "/app/domains/clinic.example/dkim", url.Values{"csrf": {csrf}, "selector": {"rot1"}, "algorithm": {"ed25519"}})
		if s != 200 || !strings.Contains(body, "rot1._domainkey.clinic.example") {
			t.Fatalf("rotate: %d\n%s", s, body)
		}
		ks, err := e.srv.DB.DKIMKeys(ctx, ten)
		if err != nil {
			t.Fatal(err)
		}
		var rec string
		for _, k := range ks {
			if k.Selector == "rot1" {
				rec = k.DNSValue
			}
		}
		if rec == "" || !strings.Contains(html.UnescapeString(body), rec) {
			t.Fatalf("the record to publish is not shown exactly: %q", rec)
		}
		if s, body := e.form(admin, "/app/domains/clinic.example/dkim", url.Values{"csrf": {csrf}, "selector": {"rot1"}}); s != 422 || !strings.Contains(body, "selector") {
			t.Fatalf("a used selector: %d\n%s", s, body)
		}
		if n := auditCount(t, e, ten, "POST /v1/domains/{domain}/dkim"); n != 1 {
			t.Errorf("%d audit entries", n)
		}
	})
}

func dkimCase(t *testing.T, e *env, tenantID string) ruleCase {
	return ruleCase{people.RoleMarketer, "POST", "/v1/domains/{domain}/dkim", "/app/domains", "/app/domains/clinic.example/dkim", "/app/domains/clinic.example/dkim",
		url.Values{"selector": {"forged"}}, func() string {
			ks, err := e.srv.DB.DKIMKeys(context.Background(), tenantID)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(len(ks))
		}}
}
