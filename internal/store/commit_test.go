package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestCancelledWriterLeavesItsBatchAlone cancels one writer while its statement runs
// inside a shared transaction. The other writes of that batch must still commit: were
// the statement cancelled, SQLite would roll back the whole transaction (an interrupted
// write does) and PostgreSQL would abort it.
func TestCancelledWriterLeavesItsBatchAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openMigrated(t, url, Options{})
		// A write that runs for seconds: only an interrupted write takes the
		// transaction down with it.
		slow := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) UPDATE tenants SET name = name WHERE id = (SELECT count(*) FROM c)"
		if db.Dialect() == Postgres {
			slow = "UPDATE tenants SET name = name WHERE id = (SELECT pg_sleep(0.5)::text)"
		}

		// Hold the committer so that the next two writes queue up and share a batch.
		hold, held := make(chan struct{}), make(chan struct{})
		go db.Write(ctx, func(context.Context, *Tx) error { close(held); <-hold; return nil })
		<-held

		aErr := make(chan error, 1)
		go func() {
			aErr <- db.Write(ctx, func(ctx context.Context, tx *Tx) error {
				_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped) VALUES ($1, $2, $3, $4, $5)",
					"kept", "kept", ms(time.Now()), "m", []byte{1})
				return err
			})
		}()
		time.Sleep(50 * time.Millisecond)
		bctx, cancel := context.WithCancel(ctx)
		started := make(chan struct{})
		bErr := make(chan error, 1)
		go func() {
			bErr <- db.Write(bctx, func(ctx context.Context, tx *Tx) error {
				close(started)
				_, err := tx.exec(ctx, slow)
				return err
			})
		}()
		time.Sleep(50 * time.Millisecond)
		close(hold)
		<-started
		time.Sleep(100 * time.Millisecond) // the slow statement is running
		cancel()

		if err := <-aErr; err != nil {
			t.Fatalf("the other write of the batch failed: %v", err)
		}
		<-bErr // finished: a write once started is not cut short by its caller
		if _, err := db.Tenant(ctx, "kept"); err != nil {
			t.Fatalf("the other write of the batch was not stored: %v", err)
		}
	})
}

// TestPriorityWriteGoesFirst queues writes behind a held committer, then a priority
// write: it must commit in the next batch ahead of all of them, so a delivery's outcome
// never waits behind a burst of acceptances.
func TestPriorityWriteGoesFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openMigrated(t, url, Options{Committers: 1, MaxBatch: 8})
		hold, held := make(chan struct{}), make(chan struct{})
		var once sync.Once
		release := func() { once.Do(func() { close(hold) }) }
		defer release()
		go db.Write(ctx, func(context.Context, *Tx) error { close(held); <-hold; return nil })
		<-held

		var mu sync.Mutex
		var order []string
		note := func(s string) func(context.Context, *Tx) error {
			return func(ctx context.Context, tx *Tx) error {
				mu.Lock()
				order = append(order, s)
				mu.Unlock()
				_, err := tx.exec(ctx, "UPDATE tenants SET name = name WHERE id = $1", s)
				return err
			}
		}
		queued := cap(db.commit.queue) // a full queue: more than one batch
		var wg sync.WaitGroup
		for i := range queued {
			wg.Add(1)
			go func() { defer wg.Done(); db.Write(ctx, note(fmt.Sprint("normal-", i))) }()
		}
		waitFor(t, func() bool { return len(db.commit.queue) == queued })
		wg.Add(1)
		go func() { defer wg.Done(); db.WritePriority(ctx, note("priority")) }()
		waitFor(t, func() bool { return len(db.commit.first) == 1 })
		release()
		wg.Wait()
		if len(order) != queued+1 || order[0] != "priority" {
			t.Fatalf("priority write ran at position %d of %d: %v", slices.Index(order, "priority"), len(order), order)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

// TestFailedWriteIsUndoneAlone puts writes that fail — one by returning an error after
// its statement ran, one whose statement the database refuses — between writes that
// succeed in one shared transaction, and at its start, where a write runs without a
// savepoint and its failure rolls the transaction back. The failed writes leave nothing
// behind and the others commit, the writes after a failure included. The same again
// with every write Rerunnable: on PostgreSQL the batch first runs without savepoints,
// fails, and runs again with them (every write twice); the outcome is the same.
func TestFailedWriteIsUndoneAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := openMigrated(t, url, Options{Committers: 1})
		for _, c := range []struct {
			name        string
			rerun, lead bool
		}{{"savepoints", false, true}, {"rerunnable", true, true}, {"rerunnable-success-first", true, false}} {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				if c.rerun {
					ctx = Rerunnable(ctx)
				}
				order, runs := failedWritesAlone(t, ctx, db, c.name+"-", c.lead)
				// Run without savepoints first, a batch stops at its first failure and
				// runs again from the start: the writes up to that one run twice.
				twice := c.rerun && db.dialect == Postgres
				for _, w := range order {
					want := 1
					if twice {
						want = 2
					}
					if runs[w.id] != want {
						t.Errorf("write %q ran %d times, want %d", w.id, runs[w.id], want)
					}
					if w.fail {
						twice = false
					}
				}
			})
		}
	})
}

// queuedWrite is one write of failedWritesAlone's batch.
type queuedWrite struct {
	id   string
	fail bool
	fn   func(ctx context.Context, tx *Tx) error
}

// failedWritesAlone runs TestFailedWriteIsUndoneAlone's batch (with the failing writes
// that lead it, or without) with ids prefixed by pre; it returns the writes in the
// order queued and how many times each one's function ran.
func failedWritesAlone(t *testing.T, ctx context.Context, db *DB, pre string, lead bool) ([]queuedWrite, map[string]int) {
	insert := func(ctx context.Context, tx *Tx, id string) error {
		_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped) VALUES ($1, $2, $3, $4, $5)",
			pre+id, pre+id, ms(time.Now()), "m", []byte{1})
		return err
	}
	// An insert left to ride with a later statement (insertLater) is the write's
	// own: flushed at its end if nothing took it, failing and undone with it.
	later := func(ctx context.Context, tx *Tx, id string) error {
		return tx.insertLater(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped)", 1, "", pre+id, pre+id, ms(time.Now()), "m", []byte{1})
	}
	if err := db.Write(ctx, func(ctx context.Context, tx *Tx) error { return insert(ctx, tx, "seed") }); err != nil {
		t.Fatal(err)
	}
	// Hold the committer so that the writes below queue up and share a batch.
	hold, held := make(chan struct{}), make(chan struct{})
	go db.Write(context.Background(), func(context.Context, *Tx) error { close(held); <-hold; return nil })
	<-held

	refused := fmt.Errorf("refused by the caller")
	writes := []queuedWrite{
		// The batch's first writes fail: each is rolled back with the transaction.
		{"lead-returned", true, func(ctx context.Context, tx *Tx) error {
			if err := insert(ctx, tx, "lead-returned"); err != nil {
				return err
			}
			return refused
		}},
		{"lead-duplicate", true, func(ctx context.Context, tx *Tx) error {
			if err := insert(ctx, tx, "lead-duplicate"); err != nil {
				return err
			}
			return insert(ctx, tx, "seed")
		}},
		{"first", false, func(ctx context.Context, tx *Tx) error { return insert(ctx, tx, "first") }},
		{"returned", true, func(ctx context.Context, tx *Tx) error {
			if err := insert(ctx, tx, "returned"); err != nil {
				return err
			}
			return refused
		}},
		{"after-returned", false, func(ctx context.Context, tx *Tx) error { return insert(ctx, tx, "after-returned") }},
		{"duplicate", true, func(ctx context.Context, tx *Tx) error {
			if err := insert(ctx, tx, "duplicate"); err != nil {
				return err
			}
			return insert(ctx, tx, "first") // the primary key is taken: the database refuses
		}},
		{"after-duplicate", false, func(ctx context.Context, tx *Tx) error { return insert(ctx, tx, "after-duplicate") }},
		{"later", false, func(ctx context.Context, tx *Tx) error { return later(ctx, tx, "later") }},
		{"later-returned", true, func(ctx context.Context, tx *Tx) error {
			if err := later(ctx, tx, "later-returned"); err != nil {
				return err
			}
			return refused
		}},
		{"after-later-returned", false, func(ctx context.Context, tx *Tx) error { return insert(ctx, tx, "after-later-returned") }},
		{"later-duplicate", true, func(ctx context.Context, tx *Tx) error {
			if err := insert(ctx, tx, "later-duplicate"); err != nil {
				return err
			}
			return later(ctx, tx, "first") // refused when it is flushed at the write's end
		}},
		{"after-later-duplicate", false, func(ctx context.Context, tx *Tx) error { return insert(ctx, tx, "after-later-duplicate") }},
	}
	if !lead {
		writes = writes[2:]
	}
	var mu sync.Mutex
	runs := map[string]int{}
	errs := make([]chan error, len(writes))
	for i, w := range writes {
		errs[i] = make(chan error, 1)
		fn := func(ctx context.Context, tx *Tx) error {
			mu.Lock()
			runs[w.id]++
			mu.Unlock()
			return w.fn(ctx, tx)
		}
		go func() { errs[i] <- db.Write(ctx, fn) }()
		time.Sleep(20 * time.Millisecond) // queued in this order
	}
	close(hold)
	for i, w := range writes {
		err := <-errs[i]
		if w.fail != (err != nil) {
			t.Errorf("write %q: err %v, want failure %v", w.id, err, w.fail)
		}
		if errors.Is(err, ErrUnavailable) {
			t.Errorf("write %q failed as unavailable (the batch was lost): %v", w.id, err)
		}
		_, terr := db.Tenant(ctx, pre+w.id)
		if stored := terr == nil; stored == w.fail {
			t.Errorf("write %q: stored %v, want %v", w.id, stored, !w.fail)
		}
	}
	return writes, runs
}

// A batch of rerunnable writes that all succeed runs once, in one transaction.
func TestRerunnableBatchRunsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := openMigrated(t, url, Options{Committers: 1})
		ctx := Rerunnable(context.Background())
		hold, held := make(chan struct{}), make(chan struct{})
		go db.Write(context.Background(), func(context.Context, *Tx) error { close(held); <-hold; return nil })
		<-held
		var mu sync.Mutex
		runs := map[string]int{}
		txs := map[*Tx]bool{}
		errs := make(chan error, 5)
		for i := range 5 {
			id := fmt.Sprintf("once-%d", i)
			go func() {
				errs <- db.Write(ctx, func(ctx context.Context, tx *Tx) error {
					mu.Lock()
					runs[id]++
					txs[tx] = true
					mu.Unlock()
					_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped) VALUES ($1, $1, 0, 'm', $2)", id, []byte{1})
					return err
				})
			}()
		}
		time.Sleep(100 * time.Millisecond) // all five queued
		close(hold)
		for range 5 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for id, n := range runs {
			if n != 1 {
				t.Errorf("write %q ran %d times", id, n)
			}
		}
		if len(runs) != 5 || len(txs) != 1 {
			t.Errorf("%d writes ran in %d transactions, want 5 in 1", len(runs), len(txs))
		}
	})
}

// openMigrated opens and migrates the database at url, closed when the test ends.
func openMigrated(t *testing.T, url string, opt Options) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestOpenWarmsConnections: a server's PostgreSQL pool starts with the connections it
// asked for open and idle, so its first requests do not wait for backends to start.
func TestOpenWarmsConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := openMigrated(t, url, Options{})
		if db.Dialect() != Postgres {
			t.Skip("SQLite has no connections to warm")
		}
		warm, err := Open(context.Background(), url, Options{WarmConns: 5})
		if err != nil {
			t.Fatal(err)
		}
		defer warm.Close()
		if st := warm.SQL().Stats(); st.OpenConnections < 5 || st.Idle < 5 {
			t.Errorf("after Open with 5 warm connections: %d open, %d idle", st.OpenConnections, st.Idle)
		}
		if st := db.SQL().Stats(); st.OpenConnections > 2 {
			t.Errorf("without warming, Open left %d connections open", st.OpenConnections)
		}
	})
}

// TestCommitEndLeavesFailedWritesOut: the rows a commit adds at its end (labels,
// rollups; on PostgreSQL in one statement with what waits to ride along) never carry
// an insert left waiting by a write that failed — here the batch's last, after a
// write that added to the rollups.
func TestCommitEndLeavesFailedWritesOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openMigrated(t, url, Options{Committers: 1}) // so the held one holds every write
		tenant := func(id string) []any { return []any{id, id, ms(time.Now()), "m", []byte{1}} }
		const head = "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped)"
		hold, held := make(chan struct{}), make(chan struct{})
		go db.Write(ctx, func(context.Context, *Tx) error { close(held); <-hold; return nil })
		<-held

		counted := make(chan error, 1)
		go func() {
			counted <- db.Write(ctx, func(ctx context.Context, tx *Tx) error {
				if err := tx.insertLater(ctx, head, 1, "", tenant("counted")...); err != nil {
					return err
				}
				tx.rollups = append(tx.rollups,
					rollupDelta{tenantID: "counted", dim: "tag", value: "v", bucket: 1, counter: -1, label: []byte("label")},
					rollupDelta{tenantID: "counted", dim: "tag", value: "v", bucket: 1, counter: 0})
				return nil
			})
		}()
		time.Sleep(20 * time.Millisecond)
		failed := make(chan error, 1)
		go func() {
			failed <- db.Write(ctx, func(ctx context.Context, tx *Tx) error {
				if err := tx.insertLater(ctx, head, 1, "", tenant("failed")...); err != nil {
					return err
				}
				return errors.New("refused by the caller")
			})
		}()
		time.Sleep(20 * time.Millisecond)
		close(hold)
		if err := <-counted; err != nil {
			t.Fatal(err)
		}
		if err := <-failed; err == nil {
			t.Fatal("the failing write succeeded")
		}
		if _, err := db.Tenant(ctx, "failed"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the failed write's insert was stored with the commit's end: %v", err)
		}
		if _, err := db.Tenant(ctx, "counted"); err != nil {
			t.Errorf("the counted write's tenant: %v", err)
		}
		var n int
		if err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM report_labels WHERE tenant_id = 'counted'").Scan(&n); err != nil || n != 1 {
			t.Errorf("labels: %d, %v", n, err)
		}
		if err := db.sql.QueryRowContext(ctx, "SELECT "+Counters[0]+" FROM report_rollups WHERE tenant_id = 'counted'").Scan(&n); err != nil || n != 1 {
			t.Errorf("rollup: %d, %v", n, err)
		}
	})
}

// TestSoonWriteWaitsForCompany: a write sent with WriteSoon does not commit alone
// while its bound lasts: it runs in the transaction of the next write that comes, and
// commits when that one does; with no company it commits when its bound ends; and a
// closing store commits it at once.
func TestSoonWriteWaitsForCompany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openMigrated(t, url, Options{Committers: 1})
		txOf := func(into **Tx, tenant string) func(context.Context, *Tx) error {
			return func(ctx context.Context, tx *Tx) error {
				*into = tx
				_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id) VALUES ($1, $1, 0, '')", tenant)
				return err
			}
		}
		stored := func(tenant string) bool {
			var n int
			db.sql.QueryRow("SELECT COUNT(*) FROM tenants WHERE id = $1", tenant).Scan(&n)
			return n == 1
		}
		var soonTx, otherTx *Tx
		done := make(chan error, 1)
		go func() { done <- db.WriteSoon(ctx, time.Minute, txOf(&soonTx, "soon")) }()
		select {
		case err := <-done:
			t.Fatalf("committed alone within its bound: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if stored("soon") {
			t.Fatal("the waiting write is visible before any commit")
		}
		if err := db.Write(ctx, txOf(&otherTx, "other")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the waiting write did not commit with the next one")
		}
		if soonTx != otherTx || !stored("soon") {
			t.Errorf("the waiting write ran in its own transaction (%p, %p) or is missing", soonTx, otherTx)
		}

		// Two waiting writes with no other company: the shorter bound decides, even
		// for the one that came first with a longer one.
		var longTx *Tx
		go func() { done <- db.WriteSoon(ctx, time.Hour, txOf(&longTx, "long")) }()
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		short := make(chan error, 1)
		go func() { short <- db.WriteSoon(ctx, 150*time.Millisecond, txOf(&soonTx, "alone")) }()
		select {
		case err := <-short:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a write with a 150 ms bound waited for another write's longer one")
		}
		if took := time.Since(start); took < 150*time.Millisecond || !stored("alone") {
			t.Errorf("a write with no company committed after %v (stored %v), want its 150 ms bound", took, stored("alone"))
		}
		select {
		case err := <-done:
			if err != nil || longTx != soonTx {
				t.Errorf("the write with the longer bound: %v, its own transaction %v", err, longTx != soonTx)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the write with the longer bound did not commit with the shorter one")
		}

		go func() { done <- db.WriteSoon(ctx, time.Hour, txOf(&soonTx, "at-close")) }()
		time.Sleep(200 * time.Millisecond)
		closed := make(chan struct{})
		go func() { db.commit.close(); close(closed) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("closing left a waiting write waiting")
		}
		<-closed
		if !stored("at-close") {
			t.Error("the write waiting at close was not committed")
		}
	})
}
