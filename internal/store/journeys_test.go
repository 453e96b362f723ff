package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestJourneyRunClaims: the same entry key, or a second live run for a contact, starts
// nothing; two owners claiming at once never take the same run; a run advances only
// under its owner's claim and at its step (a process whose lease ran out cannot move
// it); a claim left behind is taken again once its lease ends; a paused journey's due
// runs are not claimed.
func TestJourneyRunClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		ctx := context.Background()
		now := time.Now()
		j := &store.Journey{ID: "jny_1", TenantID: "t1", Name: []byte{1}, Definition: []byte{1}, State: "active", TriggerKind: "event", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateJourney(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		start := func(id, contact, key string) (*store.JourneyRun, bool) {
			t.Helper()
			var r *store.JourneyRun
			var started bool
			err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				var err error
				r, started, err = tx.StartRun(ctx, &store.JourneyRun{ID: id, JourneyID: j.ID, TenantID: "t1", ContactID: contact, EntryKey: []byte(key), DueAt: now, StartedAt: now})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return r, started
		}
		const n = 60
		for i := range n {
			if _, ok := start(fmt.Sprintf("run_%02d", i), fmt.Sprintf("ct_%02d", i), fmt.Sprintf("k%d", i)); !ok {
				t.Fatalf("run %d not started", i)
			}
		}
		if r, ok := start("run_dup", "ct_99", "k3"); ok || r.ID != "run_03" {
			t.Fatalf("same entry key: started %v, %s", ok, r.ID)
		}
		if r, ok := start("run_dup", "ct_04", "other"); ok || r.ID != "run_04" {
			t.Fatalf("contact already in the journey: started %v, %s", ok, r.ID)
		}

		var mu sync.Mutex
		owners := map[string]string{}
		var wg sync.WaitGroup
		for _, owner := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					rs, err := db.ClaimRuns(ctx, owner, now, 7, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rs) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rs {
						if prev, ok := owners[r.ID]; ok {
							t.Errorf("%s claimed by %s and %s", r.ID, prev, owner)
						}
						owners[r.ID] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(owners) != n {
			t.Fatalf("%d runs claimed, want %d", len(owners), n)
		}
		r, err := db.JourneyRun(ctx, "t1", "run_00")
		if err != nil {
			t.Fatal(err)
		}
		other := map[string]string{"a": "b", "b": "a"}[owners[r.ID]]
		advance := func(owner string, r *store.JourneyRun) error {
			return db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.AdvanceRun(ctx, r, owner, &store.JourneyStep{RunID: r.ID, JourneyID: j.ID, TenantID: "t1", Step: r.Step, Outcome: "sent", At: now}, 1, now, "done", "")
			})
		}
		if err := advance(other, r); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another owner advanced the run: %v", err)
		}
		if err := advance(owners[r.ID], r); err != nil {
			t.Fatal(err)
		}
		if err := advance(owners[r.ID], r); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the same step taken twice: %v", err)
		}
		// The lease ends: the other runs are claimed again (still at step 0), with
		// the advanced one (at step 1).
		rs, err := db.ClaimRuns(ctx, "c", now.Add(2*time.Minute), 100, time.Minute)
		if err != nil || len(rs) != n {
			t.Fatalf("after the lease: %d runs, %v", len(rs), err)
		}
		// Paused: nothing is claimed.
		if err := db.SetJourneyState(ctx, "t1", j.ID, "paused", []string{"active"}, now, nil); err != nil {
			t.Fatal(err)
		}
		if rs, err := db.ClaimRuns(ctx, "d", now.Add(time.Hour), 100, time.Minute); err != nil || len(rs) != 0 {
			t.Fatalf("paused journey: %d runs claimed, %v", len(rs), err)
		}
	})
}
