package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// walKeeper checkpoints SQLite's write-ahead log away from the commit path.
//
// Left to itself, SQLite checkpoints inside the COMMIT that takes the log past a
// thousand pages: that commit copies every page the log holds into the database file
// and fsyncs it before it returns. Under load that was one commit in about twenty-five,
// each 5 to 60 ms, and every writer of that batch and of the batches queued behind it
// waited for it — most of the accepts slower than 10 ms in an open-loop bench. So
// connections open with automatic checkpoints off, and this copies the log from its own
// goroutine, beside the commits, which go on appending meanwhile.
//
// One thing only the writer can do: the log starts again from its beginning only when
// a write transaction begins and finds every frame already copied. With commits
// arriving back to back, a checkpoint running beside them never finds that — frames
// are appended while it copies — and the log would grow for as long as the load lasts.
// So once it holds walResetAt frames, the keeper checkpoints again until a run leaves
// little behind (walCaughtUp frames), then asks the committer to copy that little
// itself, between two batches, where no frame can be appended meanwhile; the next
// batch then restarts the log. That step costs a commit a millisecond or two, a few
// times a second under sustained load, instead of one commit in twenty-five paying for
// the whole copy.
type walKeeper struct {
	sql  *sql.DB
	kick chan struct{} // a commit appended frames
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// mu: one checkpoint at a time in this process (the keeper's or the committer's).
	mu sync.Mutex
	// finish: the log is past walResetAt and the last run left little to copy: the
	// committer's turn.
	finish atomic.Bool
	// commits since the last run.
	commits atomic.Int64
}

// Tuned for the bench's open loop (a commit every 2 ms, about 40 pages each); vars
// so tests can make the log reach them quickly.
var (
	// walPace lets commits gather between runs, so a page that every commit touches
	// (an index's last leaf, say) is copied once for many of them.
	walPace = 20 * time.Millisecond
	// walResetAt is the log's length, in frames, past which the committer is asked
	// to let it restart (4096 pages of 4 KiB: 16 MiB).
	walResetAt = 4096
	// walCaughtUp is what a run may leave uncopied for the committer to finish.
	walCaughtUp = 256
	// walIdle: how often the keeper looks without being kicked (writes made outside
	// the committer, such as migrations, append frames too).
	walIdle = time.Second
	// walFew: fewer commits than this in a pace are left for the idle look: under
	// light load a checkpoint, with its fsync of the database file, after every
	// commit or two would cost more than it copies.
	walFew int64 = 4
)

func newWALKeeper(db *sql.DB) *walKeeper {
	k := &walKeeper{sql: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k
}

// kicked tells the keeper a commit appended frames. It never blocks.
func (k *walKeeper) kicked() {
	if k == nil {
		return
	}
	k.commits.Add(1)
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

func (k *walKeeper) close() {
	k.once.Do(func() { close(k.stop) })
	<-k.done
}

func (k *walKeeper) run() {
	defer close(k.done)
	idle := time.NewTicker(walIdle)
	defer idle.Stop()
	pace := time.NewTimer(walPace)
	for {
		kicked := false
		select {
		case <-k.kick:
			kicked = true
		case <-idle.C:
		case <-k.stop:
			return
		}
		if k.finish.Load() {
			continue // the committer's turn; it has not come yet
		}
		if kicked {
			pace.Reset(walPace)
			select {
			case <-pace.C:
			case <-k.stop:
				return
			}
			if k.commits.Load() < walFew {
				continue
			}
		}
		k.commits.Store(0)
		// Past walResetAt, run again at once until little is left: each run copies
		// what was appended during the one before, so they shorten quickly. Bounded,
		// so a reader that holds frames back cannot keep the keeper spinning.
		for range 4 {
			log, copied, ok := k.checkpoint()
			if !ok || log < walResetAt {
				break
			}
			if log-copied <= walCaughtUp {
				k.finish.Store(true)
				break
			}
		}
	}
}

// checkpoint copies what it can of the log without waiting for anyone: log is the
// frames in the log, copied how many of them are in the database file now.
func (k *walKeeper) checkpoint() (log, copied int, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var busy int
	// A PASSIVE checkpoint never waits: frames a reader still needs, or a checkpoint
	// of another process in progress, leave it for a later run.
	err := k.sql.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied)
	return log, copied, err == nil && busy == 0
}

// finishBetween is the committer's, between two batches: when asked, copy what the
// keeper's last run left, so that the next batch starts the log again. (The keeper
// runs nothing while it asks.)
func (k *walKeeper) finishBetween() {
	if k == nil || !k.finish.Load() {
		return
	}
	k.checkpoint()
	k.finish.Store(false)
}
