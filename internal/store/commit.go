package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// committer batches concurrent writes into shared transactions: each caller's function
// runs under its own savepoint, and one COMMIT (one fsync) acknowledges them all. This is
// what lets durable acceptance run at thousands of messages per second on one disk.
type committer struct {
	db       *DB
	maxBatch int
	queue    chan *writeReq
	// first holds writes that something outside the database already depends on — a
	// delivery's outcome after the remote server said 250. They join the next batch
	// ahead of everything queued, so a burst of acceptances cannot stretch the time
	// in which a crash would lose them.
	first chan *writeReq
	// soon holds writes whose fact is already durable elsewhere (a delivery the
	// local accept log holds): each waits, up to its own bound, for another write to
	// share a commit with instead of paying for one alone. Under light load that is
	// most of a commit, and its fsync, saved for every delivered message.
	soon chan *writeReq
	// sync, on SQLite, flushes the log of committed batches and answers them.
	sync    *walSyncer
	wg      sync.WaitGroup
	closing chan struct{}
	once    sync.Once
}

type writeReq struct {
	ctx  context.Context
	fn   func(context.Context, *Tx) error
	done chan error
	due  time.Time // a write sent with WriteSoon: when it commits even alone
}

// newCommitter starts workers committers; wal, on SQLite, is the database's log,
// which they flush outside the writer's lock (walSyncer).
func newCommitter(db *DB, maxBatch, workers int, wal *os.File) *committer {
	c := &committer{db: db, maxBatch: maxBatch, queue: make(chan *writeReq, maxBatch*workers), first: make(chan *writeReq, maxBatch*workers),
		soon: make(chan *writeReq, maxBatch*workers), closing: make(chan struct{})}
	if wal != nil {
		c.sync = newWALSyncer(wal, c, db.log)
	}
	for range workers {
		c.wg.Add(1)
		go c.run()
	}
	return c
}

var errClosed = errors.New("store is closed")

// Rerunnable marks the writes sent with the returned context as safe to run again
// from their start after a transaction they ran in was rolled back: their functions
// change nothing outside the transaction, or only set what a second run sets again
// (ids, a result read back). On PostgreSQL a batch made only of such writes runs
// without a savepoint for each (see commitWhole).
func Rerunnable(ctx context.Context) context.Context {
	return context.WithValue(ctx, rerunKey{}, true)
}

type rerunKey struct{}

func rerunnable(batch []*writeReq) bool {
	for _, r := range batch {
		if ok, _ := r.ctx.Value(rerunKey{}).(bool); !ok {
			return false
		}
	}
	return true
}

// Classes of write: queued in turn, ahead of those (first), or waiting to share.
const (
	inTurn = iota
	ahead
	soon
)

func (c *committer) submit(ctx context.Context, fn func(context.Context, *Tx) error, class int, within time.Duration) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case <-c.closing:
		return errClosed
	default:
	}
	q := c.queue
	switch class {
	case ahead:
		q = c.first
	case soon:
		q, r.due = c.soon, time.Now().Add(within)
	}
	select {
	case q <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closing:
		return errClosed
	}
	// Once queued, wait for the outcome even if ctx ends: the write may already be
	// committed, and the caller must not report failure for a stored message.
	return <-r.done
}

func (c *committer) close() {
	c.once.Do(func() { close(c.closing) })
	c.wg.Wait()
	if c.sync != nil {
		c.sync.close()
	}
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*writeReq, 0, c.maxBatch)
	// held: writes from soon waiting for company.
	var held []*writeReq
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *writeReq
		select {
		case first = <-c.first: // a priority write never waits for a coin toss
		default:
		}
		if first == nil {
			var due <-chan time.Time
			if len(held) > 0 {
				timer.Reset(time.Until(earliest(held)))
				due = timer.C
			}
			select {
			case first = <-c.first:
			case first = <-c.queue:
			case r := <-c.soon:
				held = append(held, r)
			case <-due:
			case <-c.closing:
				// Drain what was queued before close, then stop.
				if len(held) > 0 {
					c.commit(held)
				}
				for {
					select {
					case r := <-c.first:
						c.commit([]*writeReq{r})
					case r := <-c.queue:
						c.commit([]*writeReq{r})
					case r := <-c.soon:
						c.commit([]*writeReq{r})
					default:
						return
					}
				}
			}
			if due != nil && !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			if first == nil && len(held) > 0 && len(held) < c.maxBatch && time.Now().Before(earliest(held)) {
				continue // still waiting for company
			}
		}
		batch = append(batch[:0], held...)
		held = held[:0]
		if first != nil {
			batch = append(batch, first)
		}
		batch = c.fill(batch, c.first)
		batch = c.fill(batch, c.queue)
		batch = c.fill(batch, c.soon)
		c.db.wal.finishBetween()
		c.commit(batch)
	}
}

// earliest is when the first of held writes must commit.
func earliest(held []*writeReq) time.Time {
	t := held[0].due
	for _, r := range held[1:] {
		if r.due.Before(t) {
			t = r.due
		}
	}
	return t
}

// fill adds what q holds now to batch, up to maxBatch, without waiting.
func (c *committer) fill(batch []*writeReq, q chan *writeReq) []*writeReq {
	for len(batch) < c.maxBatch {
		select {
		case r := <-q:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// begin starts a batch's transaction. On SQLite it runs on the connection DB holds
// open (DB.pin), always the same one: SQLite empties a connection's page cache when
// it finds that another connection has written since its last transaction, so on
// pooled connections, taken in turn, every commit began by reading the tables'
// upper pages again, and prepared each statement once per connection.
func (c *committer) begin(ctx context.Context) (*sql.Tx, error) {
	if c.db.pin != nil {
		return c.db.pin.BeginTx(ctx, nil)
	}
	return c.db.sql.BeginTx(ctx, nil)
}

func (c *committer) commit(batch []*writeReq) {
	if c.db.dialect == Postgres && len(batch) > 1 && rerunnable(batch) && c.commitWhole(batch) {
		return
	}
	if c.sync != nil {
		if err := c.sync.err(); err != nil {
			c.finish(batch, nil, fmt.Errorf("%w: an earlier flush of the log to disk failed: %v", ErrUnavailable, err))
			return
		}
	}
	ctx := context.Background()
	errs := make([]error, len(batch))
	tx, err := c.begin(ctx)
	if err != nil {
		c.finish(batch, nil, fmt.Errorf("%w: begin: %v", ErrUnavailable, err))
		return
	}
	stx := &Tx{tx: tx, db: c.db, dialect: c.db.dialect}
	var afters [][]func()
	// bare: no write of this transaction has succeeded yet, so the next runs without a
	// savepoint — if it fails, the transaction is rolled back and begun afresh for the
	// writes after it, which loses nothing. A commit of one write never pays for a
	// savepoint, and on PostgreSQL every commit of more saves a round trip: under light
	// load, where commits hold one to three writes, a large share of them.
	bare := true
	merge, spOpen := c.db.dialect == Postgres, false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		stx.startWrite()
		auditMark, rollupMark, hookMark := len(stx.audit), len(stx.rollups), len(stx.webhooks)
		// Once started, a write runs to its end whatever happens to its caller. A
		// cancelled statement interrupts the connection: on SQLite that rolls back the
		// whole shared transaction, and with it the other writers' work.
		rctx := context.WithoutCancel(r.ctx)
		if bare {
			if errs[i] = runWrite(rctx, r.fn, stx); errs[i] != nil {
				tx.Rollback()
				stx.audit = stx.audit[:auditMark]
				stx.rollups = stx.rollups[:rollupMark]
				stx.webhooks = stx.webhooks[:hookMark]
				if i == len(batch)-1 {
					c.finish(batch, errs, nil)
					return
				}
				if tx, err = c.begin(ctx); err != nil {
					for j := i + 1; j < len(batch); j++ {
						errs[j] = fmt.Errorf("%w: begin: %v", ErrUnavailable, err)
					}
					c.finish(batch, errs, nil)
					return
				}
				stx.tx = tx
				continue
			}
			bare = false
		} else {
			// Each write runs under a savepoint, so a write that fails is undone alone.
			// On PostgreSQL every statement is a round trip: the previous write's
			// savepoint is released in the same one that opens this write's (a query
			// without arguments goes as one simple-protocol message), and the last is
			// left for COMMIT to release. SQLite has no round trips and keeps the plain
			// pair, whose statements it has prepared.
			open := "SAVEPOINT w"
			if merge && spOpen {
				open = "RELEASE SAVEPOINT w; SAVEPOINT w"
			}
			if _, err := stx.exec(ctx, open); err != nil {
				tx.Rollback()
				c.finish(batch, nil, fmt.Errorf("%w: savepoint: %v", ErrUnavailable, err))
				return
			}
			spOpen = true
			if errs[i] = runWrite(rctx, r.fn, stx); errs[i] != nil {
				stx.audit = stx.audit[:auditMark]
				stx.rollups = stx.rollups[:rollupMark]
				stx.webhooks = stx.webhooks[:hookMark]
				if _, err := stx.exec(ctx, "ROLLBACK TO SAVEPOINT w"); err != nil {
					tx.Rollback()
					c.finish(batch, nil, fmt.Errorf("%w: rollback to savepoint: %v", ErrUnavailable, err))
					return
				}
			}
			if !merge {
				if _, err := stx.exec(ctx, "RELEASE SAVEPOINT w"); err != nil {
					tx.Rollback()
					c.finish(batch, nil, fmt.Errorf("%w: release savepoint: %v", ErrUnavailable, err))
					return
				}
				spOpen = false
			}
		}
		if errs[i] == nil {
			afters = append(afters, stx.after)
		}
	}
	c.end(ctx, tx, stx, batch, errs, afters)
}

// end flushes what the batch's writes left for the end of the transaction, commits
// it, runs the after-commit functions of the writes that succeeded and answers every
// writer.
func (c *committer) end(ctx context.Context, tx *sql.Tx, stx *Tx, batch []*writeReq, errs []error, afters [][]func()) {
	// A write that failed leaves its waiting inserts behind: they are not the commit's.
	stx.later, stx.retire = nil, nil
	// The audit chain goes last: on PostgreSQL its lock is held from there until the
	// commit ends, serialising every process's commits, so as little as possible runs
	// under it. (Rollup rows are locked before it, always in sorted order, and nothing
	// holding it waits for one: no cycle.)
	if err := stx.flushWebhooks(ctx); err != nil {
		tx.Rollback()
		c.finish(batch, nil, fmt.Errorf("%w: queue webhook jobs and report labels: %v", ErrUnavailable, err))
		return
	}
	if err := stx.flushRollups(ctx); err != nil {
		tx.Rollback()
		c.finish(batch, nil, fmt.Errorf("%w: add to report rollups: %v", ErrUnavailable, err))
		return
	}
	// Webhook jobs or labels with no rollup statement to ride in (PostgreSQL).
	if err := stx.flushLater(ctx); err != nil {
		tx.Rollback()
		c.finish(batch, nil, fmt.Errorf("%w: queue webhook jobs: %v", ErrUnavailable, err))
		return
	}
	if err := stx.flushAudit(ctx); err != nil {
		tx.Rollback()
		c.finish(batch, nil, fmt.Errorf("%w: append audit: %v", ErrUnavailable, err))
		return
	}
	if err := tx.Commit(); err != nil {
		c.finish(batch, nil, fmt.Errorf("%w: commit: %v", ErrUnavailable, err))
		return
	}
	c.db.wal.kicked()
	if c.sync != nil {
		// Answered, and the after-commit work run, once the log is on disk. (A copy:
		// run reuses batch's array for the next batch.)
		c.sync.add(committed{batch: slices.Clone(batch), errs: errs, afters: afters})
		return
	}
	for _, fs := range afters {
		for _, f := range fs {
			f()
		}
	}
	c.finish(batch, errs, nil)
}

// commitWhole runs a batch of rerunnable writes (Rerunnable) in one PostgreSQL
// transaction without a savepoint around each: one round trip saved a write after the
// first, about 30 % of a small commit's. If a write fails, the transaction (every
// write's work with it) is rolled back, nothing is answered, and it reports false:
// commit then runs the whole batch again with savepoints, so the failure is undone
// alone — which is why each write must be safe to run twice.
func (c *committer) commitWhole(batch []*writeReq) bool {
	ctx := context.Background()
	tx, err := c.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return false // the path with savepoints reports it
	}
	stx := &Tx{tx: tx, db: c.db, dialect: c.db.dialect}
	afters := make([][]func(), 0, len(batch))
	for _, r := range batch {
		if r.ctx.Err() != nil {
			tx.Rollback()
			return false
		}
		stx.startWrite()
		if err := runWrite(context.WithoutCancel(r.ctx), r.fn, stx); err != nil {
			tx.Rollback()
			return false
		}
		afters = append(afters, stx.after)
	}
	c.end(ctx, tx, stx, batch, make([]error, len(batch)), afters)
	return true
}

// runWrite runs one write's function and then its inserts still waiting
// (Tx.insertLater), so a failure among them is the write's own.
func runWrite(ctx context.Context, fn func(context.Context, *Tx) error, tx *Tx) error {
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.flushLater(ctx); err != nil {
		return err
	}
	if err := tx.flushRetire(ctx); err != nil {
		return err
	}
	return tx.failed
}

func (c *committer) finish(batch []*writeReq, errs []error, all error) {
	for i, r := range batch {
		switch {
		case all != nil:
			r.done <- all
		case errs != nil:
			r.done <- errs[i]
		default:
			r.done <- nil
		}
	}
}
