package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestDataMarkSurvivesALostOutcome follows the evidence a lost outcome leaves: an
// attempt marked before DATA whose lease runs out is claimed again with that attempt
// reported as unconfirmed; an attempt that never reached DATA, or whose outcome was
// recorded, is not; a process whose lease was taken over may not mark (so must not
// send); and releasing a marked claim keeps its attempt counted.
func TestDataMarkSurvivesALostOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		now := time.Now()
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var jobs []*store.Job
			for i := range 2 {
				jobs = append(jobs, &store.Job{RecipientID: fmt.Sprintf("r%d", i), MessageID: "m", TenantID: "t1", Domain: "d.example", CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now})
			}
			return tx.InsertMessage(ctx, &store.Message{ID: "m", TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}, Size: 4321}, nil, jobs, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		lease := time.Minute
		claim := func(owner string, at time.Time) map[string]*store.Job {
			t.Helper()
			jobs, err := db.ClaimJobs(ctx, owner, at, 10, lease)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]*store.Job{}
			for _, j := range jobs {
				out[j.RecipientID] = j
			}
			return out
		}
		first := claim("a", now)
		if len(first) != 2 || first["r0"].UnconfirmedAttempt != 0 || first["r0"].Size != 4321 {
			t.Fatalf("first claim (with the message's size): %+v", first)
		}
		// r0 reaches DATA; r1 dies before it. Neither outcome is recorded.
		if err := db.MarkData(ctx, first["r0"], "a"); err != nil {
			t.Fatal(err)
		}
		// The lease ends; another process takes both over.
		second := claim("b", now.Add(lease+time.Second))
		if len(second) != 2 {
			t.Fatalf("second claim got %d jobs", len(second))
		}
		if got := second["r0"].UnconfirmedAttempt; got != 1 {
			t.Errorf("r0 reclaimed with unconfirmed attempt %d, want 1", got)
		}
		if got := second["r1"].UnconfirmedAttempt; got != 0 {
			t.Errorf("r1 never reached DATA but is reported unconfirmed (%d)", got)
		}
		// The first process, late, may no longer send.
		if err := db.MarkData(ctx, first["r0"], "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("mark by the process that lost the lease: %v", err)
		}
		// A recorded outcome clears the mark.
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.DeferJob(ctx, second["r0"], "451 try later", now.Add(lease+2*time.Second))
		}); err != nil {
			t.Fatal(err)
		}
		third := claim("c", now.Add(3*lease))
		if got := third["r0"].UnconfirmedAttempt; got != 0 || third["r0"].Attempts != 3 {
			t.Errorf("after a recorded outcome: unconfirmed %d, attempts %d", got, third["r0"].Attempts)
		}
		// A release (a stop, or the start after a crash) gives back the claim's attempt
		// unless it reached DATA.
		if err := db.MarkData(ctx, third["r0"], "c"); err != nil {
			t.Fatal(err)
		}
		if n, err := db.ReleaseJobs(ctx, "c", now.Add(3*lease)); err != nil || n != 2 {
			t.Fatalf("release: %d, %v", n, err)
		}
		fourth := claim("d", now.Add(3*lease))
		if r0, r1 := fourth["r0"], fourth["r1"]; r0.Attempts != 4 || r0.UnconfirmedAttempt != 3 || r1.Attempts != 3 || r1.UnconfirmedAttempt != 0 {
			t.Errorf("after release: r0 attempts %d unconfirmed %d; r1 attempts %d unconfirmed %d", r0.Attempts, r0.UnconfirmedAttempt, r1.Attempts, r1.UnconfirmedAttempt)
		}
	})
}

// TestRetireJobOnce moves a job to history with its outcome; retiring it again (the
// job revoked or retired by another process meanwhile) finds nothing and writes no
// second history row.
func TestRetireJobOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		now := time.Now()
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			job := &store.Job{RecipientID: "r0", MessageID: "m", TenantID: "t1", Domain: "d.example", CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now}
			return tx.InsertMessage(ctx, &store.Message{ID: "m", TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}}, nil, []*store.Job{job}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		jobs, err := db.ClaimJobs(ctx, "a", now, 10, time.Minute)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claim: %v, %d jobs", err, len(jobs))
		}
		retire := func() error {
			return db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.RetireJob(ctx, jobs[0], "bounced", now, "550 5.1.1 no such user")
			})
		}
		if err := retire(); err != nil {
			t.Fatalf("retire: %v", err)
		}
		if err := retire(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("retiring a retired job: %v, want ErrNotFound", err)
		}
		var n int
		var outcome, lastErr string
		var attempts int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*), MAX(outcome), MAX(last_error), MAX(attempts) FROM delivery_history WHERE id = $1", jobs[0].ID).Scan(&n, &outcome, &lastErr, &attempts); err != nil {
			t.Fatal(err)
		}
		if n != 1 || outcome != "bounced" || lastErr != "550 5.1.1 no such user" || attempts != jobs[0].Attempts {
			t.Errorf("history: %d rows, outcome %q, last error %q, attempts %d (job had %d)", n, outcome, lastErr, attempts, jobs[0].Attempts)
		}
		if again, _ := db.ClaimJobs(ctx, "b", now.Add(time.Hour), 10, time.Minute); len(again) != 0 {
			t.Errorf("a retired job was claimed again: %d", len(again))
		}
	})
}

// TestClaimLoadsSmallMessages: a claim reads each small message with its recipient,
// exactly as ForDelivery would, and leaves a large one, and those past the claim's
// bound, to be read once the worker has reserved memory for them.
func TestClaimLoadsSmallMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		now := time.Now()
		sizes := map[string]int{"big": 65<<10 + 1}
		for i := range 70 {
			sizes[fmt.Sprintf("r%02d", i)] = 60 << 10 // 68 of them fit under 4 MiB
		}
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for r, size := range sizes {
				m := &store.Message{ID: "m-" + r, TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte("env " + r),
					Content: []byte("sealed " + r), Size: size, Tags: []string{"t-" + r}}
				rcpts := []*store.Recipient{{ID: r, MessageID: m.ID, TenantID: "t1", Kind: "to", Address: []byte("addr " + r), AddressHash: []byte(r),
					Domain: "d.example", Status: "queued", UpdatedAt: now}, {ID: r + "-cc", MessageID: m.ID, TenantID: "t1", Kind: "cc",
					Address: []byte("cc " + r), AddressHash: []byte(r + "-cc"), Domain: "d.example", Status: "sent", UpdatedAt: now}}
				job := &store.Job{RecipientID: r, MessageID: m.ID, TenantID: "t1", Domain: "d.example", CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now}
				if err := tx.InsertMessage(ctx, m, rcpts, []*store.Job{job}, nil); err != nil {
					return err
				}
			}
			return tx.InsertMarketingMessage(ctx, &store.MarketingMessage{MessageID: "m-r07", TenantID: "t1", ContactID: "c1", Kind: "campaign", Purpose: "marketing"})
		})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := db.ClaimJobs(ctx, "w", now.Add(time.Second), 100, time.Minute)
		if err != nil || len(jobs) != len(sizes) {
			t.Fatalf("claim: %d jobs, %v", len(jobs), err)
		}
		loaded := 0
		for _, j := range jobs {
			if j.Loaded == nil {
				continue
			}
			loaded++
			if j.RecipientID == "big" {
				t.Errorf("a message over the bound was loaded by the claim")
			}
			want, err := db.ForDelivery(ctx, j.MessageID, j.RecipientID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(j.Loaded, want) {
				t.Errorf("%s: claim loaded %+v %+v %v, ForDelivery reads %+v %+v %v", j.RecipientID,
					j.Loaded.Message, j.Loaded.Recipient, j.Loaded.Marketing, want.Message, want.Recipient, want.Marketing)
			}
			if j.Loaded.Marketing != (j.RecipientID == "r07") || string(j.Loaded.Recipient.Address) != "addr "+j.RecipientID {
				t.Errorf("%s: marketing %v, recipient %q", j.RecipientID, j.Loaded.Marketing, j.Loaded.Recipient.Address)
			}
		}
		if loaded != 68 {
			t.Errorf("the claim loaded %d messages, want the 68 that fit in 4 MiB", loaded)
		}
	})
}

// TestHandedOverJobsGoInClaimed: jobs inserted for the accepting process's worker
// (Job.ClaimedBy) are left as a claim leaves them — first attempt counted, held
// until the lease ends, the owner able to mark and release them — with their ids set
// as stored; a message's jobs are handed over all or none, never when it is held,
// and on PostgreSQL only with ids from its sequence.
func TestHandedOverJobsGoInClaimed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		now := time.Now()
		lease := time.Minute
		jobsFor := func(msg string, owners ...string) []*store.Job {
			var jobs []*store.Job
			for i, o := range owners {
				jobs = append(jobs, &store.Job{RecipientID: fmt.Sprintf("%s-r%d", msg, i), MessageID: msg, TenantID: "t1", Domain: "d.example",
					CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now.Add(lease), ClaimedBy: o})
			}
			return jobs
		}
		insert := func(msg string, held bool, jobs []*store.Job) error {
			return db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.InsertMessage(ctx, &store.Message{ID: msg, TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}, Size: 10, Quarantined: held}, nil, jobs, nil)
			})
		}
		jobs := jobsFor("m1", "w", "w")
		ids, err := db.NewJobIDs(ctx, len(jobs))
		if err != nil {
			t.Fatal(err)
		}
		if (ids != nil) != (db.Dialect() == store.Postgres) {
			t.Fatalf("job ids taken ahead: %v", ids)
		}
		for i := range ids {
			jobs[i].ID = ids[i]
		}
		if err := insert("m1", false, jobs); err != nil {
			t.Fatal(err)
		}
		if jobs[0].ID <= 0 || jobs[1].ID <= 0 || jobs[0].ID == jobs[1].ID {
			t.Fatalf("ids of the handed-over jobs: %d, %d", jobs[0].ID, jobs[1].ID)
		}
		for _, j := range jobs {
			var attempts int
			var owner string
			var next int64
			if err := db.SQL().QueryRow("SELECT attempts, claimed_by, next_attempt_at FROM deliveries WHERE id = $1 AND recipient_id = $2", j.ID, j.RecipientID).Scan(&attempts, &owner, &next); err != nil {
				t.Fatalf("job %d as stored: %v", j.ID, err)
			}
			if attempts != 1 || owner != "w" || next != now.Add(lease).UnixMilli() {
				t.Errorf("job %d stored with attempts %d, owner %q, next %d", j.ID, attempts, owner, next)
			}
		}
		// Not due to anyone while the lease runs; the owner may mark it.
		if got, err := db.ClaimJobs(ctx, "other", now.Add(time.Second), 10, lease); err != nil || len(got) != 0 {
			t.Fatalf("claim during the lease: %d jobs, %v", len(got), err)
		}
		j := jobs[0]
		j.Attempts = 1
		if err := db.MarkData(ctx, j, "w"); err != nil {
			t.Errorf("the owner marks its handed-over job: %v", err)
		}
		// A stop releases both: the unmarked one's attempt is given back.
		if n, err := db.ReleaseJobs(ctx, "w", now); err != nil || n != 2 {
			t.Fatalf("release: %d, %v", n, err)
		}
		got, err := db.ClaimJobs(ctx, "other", now.Add(time.Second), 10, lease)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim after release: %d, %v", len(got), err)
		}
		for _, c := range got {
			want := 1 // the unmarked job's attempt was given back
			if c.ID == j.ID {
				want = 2
			}
			if c.Attempts != want {
				t.Errorf("job %d claimed again at attempt %d, want %d", c.ID, c.Attempts, want)
			}
		}
		// Ids taken ahead are never handed out twice, nor given by the sequence to a
		// job inserted the usual way.
		if db.Dialect() == store.Postgres {
			seen := map[int64]bool{jobs[0].ID: true, jobs[1].ID: true}
			for range 100 {
				more, err := db.NewJobIDs(ctx, 3)
				if err != nil || len(more) != 3 {
					t.Fatalf("ids ahead: %v, %v", more, err)
				}
				for _, id := range more {
					if seen[id] {
						t.Fatalf("id %d handed out twice", id)
					}
					seen[id] = true
				}
			}
			plain := jobsFor("m5", "")
			if err := insert("m5", false, plain); err != nil {
				t.Fatal(err)
			}
			var id int64
			db.SQL().QueryRow("SELECT id FROM deliveries WHERE recipient_id = $1", plain[0].RecipientID).Scan(&id)
			if id == 0 || seen[id] {
				t.Errorf("a job inserted the usual way got id %d, one handed out ahead", id)
			}
		}
		// A message with no delivery at all still goes in (on PostgreSQL by the one
		// statement that carries its first events).
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertMessage(ctx, &store.Message{ID: "m6", TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}, Size: 10}, nil, nil,
				[]*store.Event{{TenantID: "t1", MessageID: "m6", Type: "accepted", At: now}})
		}); err != nil {
			t.Errorf("a message with no jobs: %v", err)
		}
		// All or none; never held; on PostgreSQL, ids first.
		if err := insert("m2", false, jobsFor("m2", "w", "")); err == nil {
			t.Error("a message with one job handed over and one not was stored")
		}
		if err := insert("m3", true, jobsFor("m3", "w")); err == nil {
			t.Error("a held message's job was handed over")
		}
		if err := insert("m4", false, jobsFor("m4", "w")); (err == nil) != (db.Dialect() == store.SQLite) {
			t.Errorf("a job handed over without an id ahead: %v", err)
		}
	})
}

// TestRetireRidesWithTheOutcome: a write that retires a job and then records its
// recipient's outcome changes both (on PostgreSQL in one statement); if the job is
// already gone it changes neither and fails with ErrNotFound, whichever statement
// follows the retirement.
func TestRetireRidesWithTheOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := open(t, url)
		seedTenant(t, db, "t1")
		ctx := context.Background()
		now := time.Now()
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, r := range []string{"r0", "r1"} {
				m := &store.Message{ID: "m-" + r, TenantID: "t1", CreatedAt: now, FromDomain: "a.example", Envelope: []byte{1}, Content: []byte{2}}
				rcpts := []*store.Recipient{{ID: r, MessageID: m.ID, TenantID: "t1", Kind: "to", Address: []byte{3}, AddressHash: []byte(r),
					Domain: "d.example", Status: "queued", UpdatedAt: now}}
				job := &store.Job{RecipientID: r, MessageID: m.ID, TenantID: "t1", Domain: "d.example", CreatedAt: now, ExpiresAt: now.Add(time.Hour), NextAttemptAt: now}
				if err := tx.InsertMessage(ctx, m, rcpts, []*store.Job{job}, nil); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		jobs, err := db.ClaimJobs(ctx, "w", now, 10, time.Minute)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claim: %v, %d jobs", err, len(jobs))
		}
		byRcpt := map[string]*store.Job{jobs[0].RecipientID: jobs[0], jobs[1].RecipientID: jobs[1]}
		// retire retires j and then records its recipient's outcome (with a method) or
		// only its status.
		retire := func(j *store.Job, status string, withMethod bool) error {
			return db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				if err := tx.RetireJob(ctx, j, status, now, ""); err != nil {
					return err
				}
				if withMethod {
					return tx.SetRecipientOutcome(ctx, j.RecipientID, status, now, []byte("detail "+status), "tls", []byte("security"))
				}
				return tx.SetRecipientStatus(ctx, j.RecipientID, status, now, []byte("detail "+status))
			})
		}
		outcome := func(j *store.Job, status string) error { return retire(j, status, true) }
		status := func(j *store.Job, status string) error { return retire(j, status, false) }
		check := func(r, wantStatus, wantMethod string, wantHistory int) {
			t.Helper()
			var st, method string
			var history, queued int
			if err := db.SQL().QueryRowContext(ctx, "SELECT status, method, (SELECT COUNT(*) FROM delivery_history WHERE recipient_id = $1),"+
				" (SELECT COUNT(*) FROM deliveries WHERE recipient_id = $1) FROM recipients WHERE id = $1", r).Scan(&st, &method, &history, &queued); err != nil {
				t.Fatal(err)
			}
			if st != wantStatus || method != wantMethod || history != wantHistory || queued != 0 {
				t.Errorf("%s: status %q method %q, %d history rows, %d queued; want %q %q %d 0", r, st, method, history, queued, wantStatus, wantMethod, wantHistory)
			}
		}
		// r0: the outcome carries the retirement; r1: any other statement after the
		// retirement runs it first. The second outcome finds the job gone.
		for _, c := range []struct {
			r, method string
			record    func(*store.Job, string) error
		}{{"r0", "tls", outcome}, {"r1", "", status}} {
			if err := c.record(byRcpt[c.r], "delivered"); err != nil {
				t.Fatalf("%s: retire and record: %v", c.r, err)
			}
			check(c.r, "delivered", c.method, 1)
			if err := c.record(byRcpt[c.r], "bounced"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: an outcome for a retired job: %v, want ErrNotFound", c.r, err)
			}
			check(c.r, "delivered", c.method, 1)
		}
	})
}
