package report_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

func TestAccountingOfDisclosures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, dbURL)
		ctx := context.Background()
		tenantID, keys := w.tenant(t, "clinic")
		otherID, otherKeys := w.tenant(t, "other")
		base := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
		phi := `[{"category":"ssn","count":1,"confidence":"high"},{"category":"mrn","count":2,"confidence":"medium"}]`
		put := func(tid string, k *tenant.Keys, to, dlp string, at time.Time, sandbox bool, method string, quarantined bool) string {
			t.Helper()
			id := tenant.NewID("msg")
			env, _ := json.Marshal(map[string]any{"from": "clinic@hospital.example", "subject": "Results for " + to})
			rid := "rcp_" + id
			st := secureline.NewState(policy.Plan{Action: policy.ActionSecure, Candidates: []policy.Method{policy.TLS, policy.Portal}, Reasons: []string{"DLP found an SSN"}})
			if method != "" {
				st.Method = policy.Method(method)
				st.Evidence = &secureline.Evidence{Method: policy.Method(method), MX: "mx.patient.example", TLS: &delivery.TLSInfo{Version: "TLSv1.3", Verified: true}}
			}
			status := "queued"
			if method != "" {
				status = "delivered"
			}
			err := w.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				m := &store.Message{ID: id, TenantID: tid, CreatedAt: at, FromDomain: "hospital.example", Sandbox: sandbox, DLP: []byte(dlp),
					Quarantined: quarantined, Envelope: k.Data.Seal(env, "message/"+id+"/envelope")}
				rc := &store.Recipient{ID: rid, MessageID: id, TenantID: tid, Kind: "to", Address: k.Data.SealString(to, "recipient/"+rid),
					AddressHash: k.AddressHash(to), Domain: "patient.example", Status: status, UpdatedAt: at, Method: method, Security: st.Seal(k, rid)}
				ev := &store.Event{TenantID: tid, MessageID: id, Type: "accepted", At: at, Sandbox: sandbox}
				if quarantined {
					ev.Type = "quarantined"
				}
				return tx.InsertMessage(ctx, m, []*store.Recipient{rc}, nil, []*store.Event{ev})
			})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		want1 := put(tenantID, keys, "pat@patient.example", phi, base, false, "tls", false)
		want2 := put(tenantID, keys, "pat@patient.example", phi, base.Add(24*time.Hour), false, "", true)
		put(tenantID, keys, "pat@patient.example", "[]", base.Add(time.Hour), false, "tls", false)    // no PHI
		put(tenantID, keys, "other@patient.example", phi, base.Add(time.Hour), false, "tls", false)   // another address
		put(tenantID, keys, "pat@patient.example", phi, base.Add(time.Hour), true, "tls", false)      // sandbox
		put(tenantID, keys, "pat@patient.example", phi, base.AddDate(0, 2, 0), false, "tls", false)   // out of range
		put(otherID, otherKeys, "pat@patient.example", phi, base.Add(time.Hour), false, "tls", false) // another tenant

		svc := report.New(w.db, w.tenants)
		acc, err := svc.Disclosures(ctx, tenantID, "PAT@patient.example", base.Add(-time.Hour), base.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(acc.Disclosures) != 2 || acc.Disclosures[0].MessageID != want1 || acc.Disclosures[1].MessageID != want2 {
			t.Fatalf("disclosures: %+v", acc.Disclosures)
		}
		d := acc.Disclosures[0]
		if d.Method != "tls" || d.TLSVersion != "TLSv1.3" || !d.TLSVerified || d.Subject != "Results for pat@patient.example" ||
			strings.Join(d.Categories, ",") != "ssn,mrn" || len(d.Reasons) == 0 {
			t.Fatalf("first disclosure: %+v", d)
		}
		if acc.Disclosures[1].Status != "queued" || acc.Disclosures[1].Method != "" {
			t.Fatalf("second disclosure: %+v", acc.Disclosures[1])
		}
		var csv strings.Builder
		if err := report.WriteDisclosuresCSV(&csv, acc); err != nil || strings.Count(csv.String(), "\n") != 3 || !strings.Contains(csv.String(), want1) {
			t.Fatalf("csv: %q %v", csv.String(), err)
		}
		if _, err := svc.Disclosures(ctx, tenantID, "not an address", time.Time{}, time.Time{}); err == nil || !strings.Contains(err.Error(), "address") || !strings.Contains(err.Error(), "to") {
			t.Fatalf("bad query: %v", err)
		}

		sum, err := svc.DLP(ctx, tenantID, base.Add(-time.Hour), base.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(sum.Categories)
		if string(b) != `[{"category":"mrn","messages":3,"quarantined":1,"sent":2},{"category":"ssn","messages":3,"quarantined":1,"sent":2}]` || sum.Quarantine["quarantined"] != 1 {
			t.Fatalf("dlp summary: %s %v", b, sum.Quarantine)
		}
	})
}
