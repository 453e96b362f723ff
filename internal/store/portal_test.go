package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// seedJobs stores one message per recipient id, each with one job, and claims them.
func seedJobs(t *testing.T, db *store.DB, rcpts ...string) map[string]*store.Job {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, r := range rcpts {
			j := &store.Job{RecipientID: r, MessageID: "m-" + r, TenantID: "t1", Domain: "d.example", CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now}
			m := &store.Message{ID: "m-" + r, TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}}
			if err := tx.InsertMessage(ctx, m, []*store.Recipient{{ID: r, MessageID: m.ID, TenantID: "t1", Kind: "to", Address: []byte{1}, AddressHash: []byte(r),
				Domain: "d.example", Status: "queued", UpdatedAt: now}}, []*store.Job{j}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := db.ClaimJobs(ctx, "w", now, len(rcpts), time.Minute)
	if err != nil || len(jobs) != len(rcpts) {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	out := map[string]*store.Job{}
	for _, j := range jobs {
		out[j.RecipientID] = j
	}
	return out
}

func portalCopy(rcpt, id string) *store.PortalMessage {
	now := time.Now()
	return &store.PortalMessage{ID: id, TenantID: "t1", MessageID: "m-" + rcpt, RecipientID: rcpt, TokenHash: []byte("token " + id),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), Content: []byte("sealed"), ContentKey: []byte("key")}
}

func handOff(db *store.DB, j *store.Job, p *store.PortalMessage) (*store.PortalMessage, error) {
	var got *store.PortalMessage
	err := db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		got, err = tx.HandOffPortal(ctx, j.ID, p, []byte("state"))
		return err
	})
	return got, err
}

// TestPortalHandOff: a copy is committed before its notice, once per recipient (a
// second hand-off keeps the first copy and so the first link), only while its job
// exists, marked when the notice is delivered, and destroyed when the delivery ends
// without it.
func TestPortalHandOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		jobs := seedJobs(t, db, "r1", "r2", "r3")

		p, err := handOff(db, jobs["r1"], portalCopy("r1", "pm1"))
		if err != nil || p.ID != "pm1" || !p.Readable(time.Now()) || !p.NotifiedAt.IsZero() {
			t.Fatalf("hand-off: %+v, %v", p, err)
		}
		if p, err = handOff(db, jobs["r1"], portalCopy("r1", "pm1-again")); err != nil || p.ID != "pm1" {
			t.Fatalf("second hand-off: %+v, %v; want the first copy kept", p, err)
		}
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.PortalNotified(ctx, "pm1", time.Now()); err != nil {
				return err
			}
			return tx.DropUnsentPortal(ctx, "r1", time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.PortalMessage(ctx, "pm1"); p.NotifiedAt.IsZero() || !p.Readable(time.Now()) {
			t.Fatalf("a delivered notice's copy: %+v", p)
		}

		// r2's notice never goes out: its copy is destroyed when the delivery ends.
		if _, err := handOff(db, jobs["r2"], portalCopy("r2", "pm2")); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DropUnsentPortal(ctx, "r2", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.PortalMessage(ctx, "pm2"); p.Readable(time.Now()) || p.ContentKey != nil || p.DestroyedWhy != "undelivered" {
			t.Fatalf("an unsent copy after its delivery ended: %+v", p)
		}

		// r3 is revoked before its attempt hands off: nothing is stored.
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.CancelDeliveries(ctx, "m-r3", nil, time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := handOff(db, jobs["r3"], portalCopy("r3", "pm3")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("hand-off after revocation: %v", err)
		}
		if _, err := db.PortalMessage(ctx, "pm3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a copy was stored for a revoked delivery: %v", err)
		}
	})
}

// TestPortalHandOffRacesRevocation: hand-offs and revocations at once, through two
// pools (two processes): whenever a copy is handed off, the revocation's write sees
// it, so no copy whose notice may go out survives a revocation.
func TestPortalHandOffRacesRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		var rcpts []string
		for i := range 60 {
			rcpts = append(rcpts, fmt.Sprintf("r%d", i))
		}
		jobs := seedJobs(t, db, rcpts...)
		other := open(t, url)
		handed, seen := make([]bool, len(rcpts)), make([]bool, len(rcpts))
		var wg sync.WaitGroup
		for i, r := range rcpts {
			wg.Add(2)
			go func() {
				defer wg.Done()
				err := againAfterDeadlock(func() error {
					_, err := handOff(other, jobs[r], portalCopy(r, "pm-"+r))
					return err
				})
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Error(err)
				}
				handed[i] = err == nil
			}()
			go func() {
				defer wg.Done()
				err := againAfterDeadlock(func() error {
					return db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
						if _, err := tx.CancelDeliveries(ctx, "m-"+r, nil, time.Now()); err != nil {
							return err
						}
						copies, err := tx.PortalMessages(ctx, "t1", "m-"+r)
						seen[i] = len(copies) == 1
						return err
					})
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := 0
		for i := range rcpts {
			if handed[i] {
				n++
				if !seen[i] {
					t.Errorf("%s: copy handed off but not seen by the revocation", rcpts[i])
				}
			}
		}
		t.Logf("%d of %d hand-offs came first", n, len(rcpts))
	})
}

// againAfterDeadlock runs write again, as its caller would, while PostgreSQL ends it
// for a deadlock: the two pools' grouped commits take the same rows in different
// orders, and then one whole transaction is refused, with nothing of it committed.
func againAfterDeadlock(write func() error) error {
	for range 10 {
		err := write()
		if err == nil || !strings.Contains(err.Error(), "40P01") {
			return err
		}
	}
	return write()
}
