package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// inboundHeld stores a quarantined inbound message for a tenant, as the gateway would
// (the SMTP side is tested in smtpd), and returns its id.
func inboundHeld(t *testing.T, srv *server.Server, tenantID, domainID string) string {
	t.Helper()
	ctx := context.Background()
	keys, err := srv.Tenants.Keys(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	id := tenant.NewID("inm")
	env, _ := json.Marshal(inbound.Envelope{MailFrom: "a@bank.example", Rcpts: []string{"dr@mx.clinic.example"}, Pending: []string{"dr@mx.clinic.example"}, Subject: "Verify"})
	now := time.Now()
	m := &store.InboundMessage{ID: id, TenantID: tenantID, DomainID: domainID, Status: store.InboundQuarantined, Reasons: []string{inbound.ReasonDMARC},
		Size: 10, CreatedAt: now, NextAttemptAt: now, Envelope: keys.Data.Seal(env, "inbound/"+id+"/envelope"),
		Verdict: keys.Data.Seal([]byte(`{"dmarc":"fail"}`), "inbound/"+id+"/verdict"), Content: keys.Data.Seal([]byte("Subject: Verify\r\n\r\nx\r\n"), "inbound/"+id+"/content")}
	if err := srv.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertInboundMessage(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	return id
}

// The inbound routes: registration reports every bad field at once; the quarantine
// lists, shows and deletes, and a second decision is a conflict.
func TestInboundAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		st, p := e.do("POST", "/v1/inbound-domains", e.key, map[string]any{"domain": "x", "smart_host": "nohost", "dmarc_action": "drop"})
		if st != 400 || len(p["errors"].([]any)) != 3 {
			t.Fatalf("bad registration: %d %v", st, p)
		}
		st, d := e.do("POST", "/v1/inbound-domains", e.key, map[string]any{"domain": "mx.clinic.example", "smart_host": "aspmx.l.google.com:25", "dmarc_action": "reject"})
		if st != 201 || d["dmarc_action"] != "reject" || d["attachment_action"] != "quarantine" || d["dlp_action"] != "none" {
			t.Fatalf("registration: %d %v", st, d)
		}
		if st, _ := e.do("POST", "/v1/inbound-domains", e.key, map[string]any{"domain": "mx.clinic.example", "smart_host": "a.example:25"}); st != 400 {
			t.Fatalf("duplicate: %d", st)
		}
		id := inboundHeld(t, e.srv, e.tenant, d["id"].(string))
		st, list := e.do("GET", "/v1/inbound-messages?status=quarantined", e.key, nil)
		if st != 200 || len(list["messages"].([]any)) != 1 {
			t.Fatalf("list: %d %v", st, list)
		}
		if st, p := e.do("GET", "/v1/inbound-messages?status=lost&limit=0", e.key, nil); st != 400 || len(p["errors"].([]any)) != 2 {
			t.Fatalf("bad list query: %d %v", st, p)
		}
		st, m := e.do("GET", "/v1/inbound-messages/"+id, e.key, nil)
		if st != 200 || m["envelope"].(map[string]any)["subject"] != "Verify" || m["verdict"].(map[string]any)["dmarc"] != "fail" {
			t.Fatalf("show: %d %v", st, m)
		}
		if st, _ := e.do("DELETE", "/v1/inbound-messages/"+id, e.key, nil); st != 200 {
			t.Fatalf("delete: %d", st)
		}
		if st, _ := e.do("POST", "/v1/inbound-messages/"+id+"/release", e.key, nil); st != 409 {
			t.Fatalf("release after delete: %d", st)
		}
		if st, _ := e.do("DELETE", "/v1/inbound-domains/"+d["id"].(string), e.key, nil); st != 204 {
			t.Fatalf("remove domain: %d", st)
		}
	})
}
