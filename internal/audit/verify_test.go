package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// fixture is a database holding 50 entries recorded concurrently and a checkpoint of
// them, exported as it would be kept off the server.
type fixture struct {
	db       *store.DB
	log      *audit.Log
	signer   *audit.Signer
	exported []byte
}

func newFixture(t *testing.T, url string) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &fixture{db: db, signer: &audit.Signer{Key: key}}
	f.log = audit.New(db, f.signer)
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.log.Record(ctx, audit.Entry{TenantID: fmt.Sprintf("t%d", i%2), Principal: "key_a",
				Action: "message.read", Object: fmt.Sprintf("msg_%02d", i), Result: "ok", Client: "192.0.2.7"})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cp, err := f.log.Checkpoint(ctx)
	if err != nil || cp.Seq != 50 {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	f.exported = audit.ExportCheckpoint(cp)
	return f
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.db.SQL().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) entries(t *testing.T) []*store.AuditEntry {
	t.Helper()
	es, err := f.db.AuditEntries(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// rebuild rewrites entry 10 and recomputes every hash after it, leaving a consistent
// chain with forged content, and removes the stored checkpoints that would betray it.
func (f *fixture) rebuild(t *testing.T) []*store.AuditEntry {
	es := f.entries(t)
	es[9].Result = "denied"
	for i := 9; i < len(es); i++ {
		es[i].PrevHash = es[i-1].Hash
		es[i].Hash = store.AuditHash(es[i].PrevHash, es[i])
		f.exec(t, "UPDATE audit_log SET result = $1, prev_hash = $2, hash = $3 WHERE seq = $4", es[i].Result, es[i].PrevHash, es[i].Hash, es[i].Seq)
	}
	f.exec(t, "DELETE FROM audit_checkpoints")
	return es
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(t *testing.T, f *fixture)
		external bool
		firstBad int64
		problem  string
	}{
		{"untouched", func(t *testing.T, f *fixture) {}, true, 0, ""},
		{"update", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit_log SET principal = 'someone_else' WHERE seq = 17")
		}, false, 17, "entry 17 was altered"},
		{"delete middle", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit_log WHERE seq = 23")
		}, false, 23, "entry 23 is missing"},
		{"truncate", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit_log WHERE seq > 45")
		}, false, 46, "stored checkpoint seals seq 50 but the log ends at seq 45"},
		{"truncate with checkpoints", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit_log WHERE seq > 45")
			f.exec(t, "DELETE FROM audit_checkpoints")
		}, true, 46, "external checkpoint seals seq 50 but the log ends at seq 45"},
		{"insert", func(t *testing.T, f *fixture) {
			// Make room at seq 20 and forge a row that links correctly to entry 19.
			f.exec(t, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 20")
			f.exec(t, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
			es := f.entries(t)
			forged := &store.AuditEntry{Seq: 20, At: es[18].At, Action: "message.read", Object: "msg_x", Result: "ok", PrevHash: es[18].Hash}
			forged.Hash = store.AuditHash(forged.PrevHash, forged)
			f.exec(t, "INSERT INTO audit_log (seq, at, action, object, result, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
				forged.Seq, forged.At.UnixMilli(), forged.Action, forged.Object, forged.Result, forged.PrevHash, forged.Hash)
		}, false, 21, "entry 21 does not link to entry 20"},
		{"reorder", func(t *testing.T, f *fixture) {
			es := f.entries(t)
			set := "UPDATE audit_log SET at = $1, tenant_id = $2, object = $3, prev_hash = $4, hash = $5 WHERE seq = $6"
			a, b := es[29], es[30]
			f.exec(t, set, b.At.UnixMilli(), b.TenantID, b.Object, b.PrevHash, b.Hash, a.Seq)
			f.exec(t, set, a.At.UnixMilli(), a.TenantID, a.Object, a.PrevHash, a.Hash, b.Seq)
		}, false, 30, "entry 30 does not link to entry 29"},
		{"rebuilt chain", func(t *testing.T, f *fixture) {
			f.rebuild(t)
		}, true, 50, "external checkpoint at seq 50 does not match the log"},
		{"rebuilt chain resigned", func(t *testing.T, f *fixture) {
			// The forger seals the rebuilt head with a key of their own.
			es := f.rebuild(t)
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			forger := audit.New(f.db, &audit.Signer{Key: key})
			if cp, err := forger.Checkpoint(context.Background()); err != nil || cp.Seq != es[49].Seq {
				t.Fatalf("forged checkpoint %+v, %v", cp, err)
			}
		}, false, 50, "stored checkpoint at seq 50: signature does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, url string) {
				f := newFixture(t, url)
				c.tamper(t, f)
				var ext *audit.Checkpoint
				if c.external {
					var err error
					if ext, err = audit.ParseCheckpoint(f.exported); err != nil {
						t.Fatal(err)
					}
				}
				res, err := audit.Verify(context.Background(), f.db, f.signer.Public(), ext)
				if err != nil {
					t.Fatal(err)
				}
				if res.OK != (c.firstBad == 0) || res.FirstBad != c.firstBad || !strings.Contains(res.Problem, c.problem) {
					t.Fatalf("got OK=%v FirstBad=%d %q; want FirstBad=%d %q", res.OK, res.FirstBad, res.Problem, c.firstBad, c.problem)
				}
				if c.firstBad == 0 && (res.Entries != 50 || res.Checkpoints != 2) {
					t.Fatalf("verified %d entries, %d checkpoints", res.Entries, res.Checkpoints)
				}
			})
		})
	}
}

func TestVerifyRebuiltChainNeedsOutsideEvidence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		f.rebuild(t)
		ctx := context.Background()
		// With every trace inside the database rewritten, the chain alone looks sound:
		// this is why checkpoints must be exported and kept elsewhere.
		if res, err := audit.Verify(ctx, f.db, f.signer.Public(), nil); err != nil || !res.OK {
			t.Fatalf("rebuilt chain without evidence: %+v, %v", res, err)
		}
		// An external checkpoint from another key is rejected even if it matches.
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		forged, err := audit.New(f.db, &audit.Signer{Key: key}).Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, "DELETE FROM audit_checkpoints")
		res, err := audit.Verify(ctx, f.db, f.signer.Public(), forged)
		if err != nil || res.OK || res.FirstBad != 50 || !strings.Contains(res.Problem, "external checkpoint at seq 50: signature does not verify") {
			t.Fatalf("forged external checkpoint: %+v, %v", res, err)
		}
	})
}
