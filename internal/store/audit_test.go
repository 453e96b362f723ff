package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

func TestAuditConcurrentAppendsFormOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		ctx := context.Background()
		if _, err := db.LastAudit(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty log head: %v", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.AppendAudit(ctx, &store.AuditEntry{
					TenantID: fmt.Sprintf("t%d", i%3), Principal: "key_1", Action: "message.send",
					Object: fmt.Sprintf("msg_%d", i), Result: "ok", Client: "10.0.0.1",
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		prev := make([]byte, store.AuditHashSize)
		var n int64
		err := db.AuditScan(ctx, 1, func(e *store.AuditEntry) error {
			n++
			if e.Seq != n {
				return fmt.Errorf("seq %d at position %d", e.Seq, n)
			}
			if !bytes.Equal(e.PrevHash, prev) {
				return fmt.Errorf("seq %d does not link to its predecessor", e.Seq)
			}
			if !bytes.Equal(e.Hash, store.AuditHash(prev, e)) {
				return fmt.Errorf("seq %d hash does not recompute", e.Seq)
			}
			prev = e.Hash
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 50 {
			t.Fatalf("scanned %d entries, want 50", n)
		}
		head, err := db.LastAudit(ctx)
		if err != nil || head.Seq != 50 || !bytes.Equal(head.Hash, prev) {
			t.Fatalf("head = %+v, %v", head, err)
		}
	})
}

func TestAuditAppendInsideWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		ctx := context.Background()
		e1 := &store.AuditEntry{Action: "a", Object: "kept"}
		e2 := &store.AuditEntry{Action: "a", Object: "rolled back"}
		if err := db.AppendAudit(ctx, e1); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.AppendAudit(ctx, e2); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("write: %v", err)
		}
		e3 := &store.AuditEntry{Action: "a", Object: "next"}
		if err := db.AppendAudit(ctx, e3); err != nil {
			t.Fatal(err)
		}
		if e3.Seq != 2 || !bytes.Equal(e3.PrevHash, e1.Hash) {
			t.Fatalf("after rollback: seq %d, links to e1 %v", e3.Seq, bytes.Equal(e3.PrevHash, e1.Hash))
		}
		if err := db.AppendAudit(ctx, &store.AuditEntry{Object: "no action"}); err == nil {
			t.Fatal("entry without action accepted")
		}
	})
}

func TestAuditEntriesFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		ctx := context.Background()
		base := time.UnixMilli(1_700_000_000_000).UTC()
		for i := range 10 {
			e := &store.AuditEntry{
				At: base.Add(time.Duration(i) * time.Minute), TenantID: []string{"t1", "t2"}[i%2],
				Principal: fmt.Sprintf("p%d", i%3), Action: []string{"login", "message.read"}[i%2], Object: fmt.Sprint(i),
			}
			if err := db.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		count := func(f store.AuditFilter) int {
			t.Helper()
			es, err := db.AuditEntries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(es); i++ {
				if es[i].Seq <= es[i-1].Seq {
					t.Fatalf("not in seq order: %d after %d", es[i].Seq, es[i-1].Seq)
				}
			}
			return len(es)
		}
		cases := []struct {
			f    store.AuditFilter
			want int
		}{
			{store.AuditFilter{}, 10},
			{store.AuditFilter{TenantID: "t1"}, 5},
			{store.AuditFilter{Action: "message.read"}, 5},
			{store.AuditFilter{Principal: "p0"}, 4},
			{store.AuditFilter{Since: base.Add(5 * time.Minute)}, 5},
			{store.AuditFilter{Until: base.Add(3 * time.Minute)}, 3},
			{store.AuditFilter{AfterSeq: 7}, 3},
			{store.AuditFilter{Limit: 4}, 4},
			{store.AuditFilter{TenantID: "t2", Principal: "p1", Action: "message.read"}, 2},
		}
		for _, c := range cases {
			if got := count(c.f); got != c.want {
				t.Errorf("%+v: %d entries, want %d", c.f, got, c.want)
			}
		}
		es, _ := db.AuditEntries(ctx, store.AuditFilter{AfterSeq: 2, Limit: 1})
		if len(es) != 1 || es[0].Seq != 3 || !es[0].At.Equal(base.Add(2*time.Minute)) || es[0].Object != "2" {
			t.Fatalf("entry 3 read back as %+v", es[0])
		}
	})
}

func TestAuditCheckpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		ctx := context.Background()
		if _, err := db.LatestCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("latest of none: %v", err)
		}
		at := time.UnixMilli(1_700_000_000_000).UTC()
		for _, seq := range []int64{5, 2, 9} {
			cp := &store.AuditCheckpoint{Seq: seq, At: at, Hash: bytes.Repeat([]byte{byte(seq)}, 32), KeyID: "k", Signature: []byte{1, 2}}
			if err := db.InsertCheckpoint(ctx, cp); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InsertCheckpoint(ctx, &store.AuditCheckpoint{Seq: 9, At: at, Hash: []byte{0}, KeyID: "k", Signature: []byte{0}}); err == nil {
			t.Fatal("second checkpoint at the same seq accepted")
		}
		latest, err := db.LatestCheckpoint(ctx)
		if err != nil || latest.Seq != 9 || latest.Hash[0] != 9 || !latest.At.Equal(at) || latest.KeyID != "k" {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		all, err := db.Checkpoints(ctx)
		if err != nil || len(all) != 3 || all[0].Seq != 2 || all[2].Seq != 9 {
			t.Fatalf("checkpoints = %v, %v", all, err)
		}
	})
}
