package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// TestDomainSecurityShowsNoOtherTenantsActivity: tenant A's delivery to a domain
// leaves a TLS capability in the shared cache; tenant B's view of that domain must
// come from B's own probe (a later checked_at, a new connection to the MX), never from
// A's entry. B's repeated question is answered from B's own probe, and A's view is
// likewise not B's.
func TestDomainSecurityShowsNoOtherTenantsActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "subject": "Results", "text": phiText})
		e.waitFinal(res["id"].(string))
		cached, ok := e.srv.DB.CacheGet(context.Background(), "tls-capability:"+patientDomain, time.Now())
		var shared tlssec.Capability
		if !ok || json.Unmarshal(cached, &shared) != nil || shared.CheckedAt.IsZero() {
			t.Fatalf("A's delivery left no capability in the shared cache: the test would prove nothing (%s)", cached)
		}

		_, keyB := e.addTenant("lab", "lab.example")
		time.Sleep(5 * time.Millisecond)
		conns := e.rcv.Connections()
		asked := time.Now()
		checkedAt := func(key string) time.Time {
			t.Helper()
			s, v := e.do("GET", "/v1/domains/"+patientDomain+"/security", key, nil)
			at, err := time.Parse(time.RFC3339Nano, toString(v["checked_at"]))
			if s != 200 || err != nil || v["verified_tls"] != true {
				t.Fatalf("security: %d %v", s, v)
			}
			return at
		}
		b1 := checkedAt(keyB)
		if b1.Equal(shared.CheckedAt) || b1.Before(asked) {
			t.Errorf("B sees checked_at %v; A's delivery checked at %v, B asked at %v", b1, shared.CheckedAt, asked)
		}
		if e.rcv.Connections() != conns+1 {
			t.Errorf("B's view probed no MX: connections %d -> %d", conns, e.rcv.Connections())
		}
		if b2 := checkedAt(keyB); !b2.Equal(b1) || e.rcv.Connections() != conns+1 {
			t.Errorf("B's second view: checked_at %v (first %v), connections %d", b2, b1, e.rcv.Connections())
		}
		// B's probe refreshed the shared cache; A's view still comes from A alone.
		if a := checkedAt(e.key); a.Equal(b1) || a.Before(b1) {
			t.Errorf("A sees checked_at %v, B's probe was at %v", a, b1)
		}
	})
}

// TestPreviewShowsNoOtherTenantsActivity: a policy preview answers "is verified TLS
// available?" for the asking tenant alone. After A's delivery warmed the shared cache,
// B's preview still probes the MX itself, so neither its answer nor its timing tells B
// whether anyone mailed the domain before.
func TestPreviewShowsNoOtherTenantsActivity(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "p@" + patientDomain, "subject": "Results", "text": phiText})
	e.waitFinal(res["id"].(string))
	_, keyB := e.addTenant("lab", "lab.example")
	conns := e.rcv.Connections()
	s, pv := e.do("POST", "/v1/policy/preview", keyB, map[string]any{"from": "a@lab.example", "to": "p@" + patientDomain, "subject": "Results", "text": phiText})
	if s != 200 || pv["recipients"].([]any)[0].(map[string]any)["method"] != "tls" {
		t.Fatalf("preview: %d %v", s, pv)
	}
	if e.rcv.Connections() != conns+1 {
		t.Errorf("B's preview answered from A's cached probe: connections %d -> %d", conns, e.rcv.Connections())
	}
}

func toString(v any) string { s, _ := v.(string); return s }
