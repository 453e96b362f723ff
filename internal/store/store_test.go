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

func open(t *testing.T, url string) *store.DB {
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
	return db
}

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		applied, err := db.Migrate(context.Background())
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, %v", applied, err)
		}
		if n, _ := db.Pending(context.Background()); n != 0 {
			t.Fatalf("pending after migrate: %d", n)
		}
	})
}

func seedTenant(t *testing.T, db *store.DB, id string) {
	t.Helper()
	if err := db.CreateTenant(context.Background(), &store.Tenant{ID: id, Name: id, CreatedAt: time.Now(), KeyMasterID: "m", KeyWrapped: []byte{1}}); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 200)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					m := &store.Message{ID: fmt.Sprintf("m%03d", i), TenantID: "t1", CreatedAt: time.Now(), FromDomain: "a.example", Envelope: []byte{1}}
					if err := tx.InsertMessage(ctx, m, nil, nil, nil); err != nil {
						return err
					}
					if i%10 == 0 {
						return errors.New("refused") // rolls back only this write
					}
					return nil
				})
			}()
		}
		wg.Wait()
		stored := 0
		for i, err := range errs {
			_, gerr := db.Message(ctx, "t1", fmt.Sprintf("m%03d", i))
			if i%10 == 0 {
				if err == nil || gerr == nil {
					t.Fatalf("write %d should have failed and left nothing: %v %v", i, err, gerr)
				}
				continue
			}
			if err != nil || gerr != nil {
				t.Fatalf("write %d: %v %v", i, err, gerr)
			}
			stored++
		}
		if stored != 180 {
			t.Fatalf("stored %d", stored)
		}
	})
}

func TestClaimNeverHandsOutAJobTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		now := time.Now()
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var jobs []*store.Job
			for i := range 300 {
				jobs = append(jobs, &store.Job{RecipientID: fmt.Sprintf("r%d", i), MessageID: "m", TenantID: "t1", Domain: "d.example", CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now})
			}
			return tx.InsertMessage(ctx, &store.Message{ID: "m", TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}}, nil, jobs, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		// A second pool on the same database stands in for a second process.
		other := open(t, url)
		lease := time.Minute
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := db
				if w%2 == 1 {
					d = other
				}
				for {
					jobs, err := d.ClaimJobs(ctx, fmt.Sprintf("w%d", w), now, 7, lease)
					if err != nil {
						t.Error(err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						if prev, dup := seen[j.ID]; dup {
							t.Errorf("job %d claimed by %s and w%d", j.ID, prev, w)
						}
						seen[j.ID] = fmt.Sprint(w)
						if j.Attempts != 1 || !j.NextAttemptAt.Equal(time.UnixMilli(now.UnixMilli()+time.Minute.Milliseconds()).UTC()) {
							t.Errorf("claim did not write the next attempt: %+v", j)
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != 300 {
			t.Fatalf("claimed %d of 300", len(seen))
		}
		var owner string
		for _, w := range seen {
			owner = "w" + w
			break
		}
		n, err := db.ReleaseJobs(ctx, owner, now)
		if err != nil || n == 0 {
			t.Fatalf("release: %d %v", n, err)
		}
		again, _ := db.ClaimJobs(ctx, "w9", now, 1000, lease)
		if len(again) != n {
			t.Fatalf("released %d, reclaimed %d", n, len(again))
		}
	})
}
