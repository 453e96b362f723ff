package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestEveryRouteIsAudited calls every route in the route table and finds an audit
// entry for each: a new route that skips the audit trail fails here.
func TestEveryRouteIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		_, res := e.send(e.key, simple("p@patient.example"))
		msgID := res["id"].(string)
		e.waitFinal(msgID)
		for _, rt := range api.Routes() {
			path := strings.NewReplacer("{id}", "x_unknown", "{domain}", "clinic.example").Replace(rt.Path)
			e.do(rt.Method, path, e.key, map[string]any{"name": "n"})
		}
		e.do("POST", "/v1/messages", "sp_live_wrong", simple("p@patient.example"))

		entries := map[string]*store.AuditEntry{}
		var anonymous401, delivered bool
		err := e.srv.DB.AuditScan(context.Background(), 1, func(a *store.AuditEntry) error {
			if entries[a.Action] == nil {
				entries[a.Action] = a
			}
			if a.Principal == "anonymous" && a.Result == "401" {
				anonymous401 = true
			}
			if a.Action == "delivery.delivered" && a.TenantID == e.tenant {
				delivered = true
			}
			if strings.Contains(a.Object+a.Detail+a.Client, "patient.example") {
				t.Errorf("audit entry holds an address: %+v", a)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range api.Routes() {
			if entries[rt.Method+" "+rt.Path] == nil {
				t.Errorf("route %s %s wrote no audit entry", rt.Method, rt.Path)
			}
		}
		if send := entries["POST /v1/messages"]; send == nil || send.Object == "" || !strings.HasPrefix(send.Principal, "key:") {
			t.Errorf("send entry lacks object or principal: %+v", send)
		}
		if !anonymous401 {
			t.Error("failed credential not audited")
		}
		if !delivered {
			t.Error("delivery outcome not audited")
		}
		// The API shows a tenant only its own entries.
		_, other := e.addTenant("other", "other.example")
		_, out := e.do("GET", "/v1/audit?action=POST%20/v1/messages", other, nil)
		if n := len(out["entries"].([]any)); n != 0 {
			t.Errorf("another tenant sees %d entries", n)
		}
		_, mine := e.do("GET", "/v1/audit?action=POST%20/v1/messages", e.key, nil)
		if n := len(mine["entries"].([]any)); n == 0 {
			t.Error("tenant sees none of its own entries")
		}
		signer, err := audit.LoadOrCreateSigner(e.dataDir + "/audit.key")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Audit.Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
		v, err := audit.Verify(context.Background(), e.srv.DB, signer.Public(), nil)
		if err != nil || !v.OK {
			t.Fatalf("verify: %+v %v", v, err)
		}
	})
}
