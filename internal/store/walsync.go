package store

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// walSyncer makes SQLite's commits durable outside the writer's lock, so that the
// next batch runs while the last one's log is being flushed to disk.
//
// With synchronous=FULL every COMMIT wrote the batch's log frames and fsynced the log
// before it let the next transaction begin: about 0.75 ms of each 1.1 ms commit under
// load, waiting on the disk while the one writer held its lock. In an open-loop bench
// at half the delivery capacity that kept the committer busy 80 % of the time, and a
// write arriving behind a few slow fsyncs queued for 20 ms and more. So connections
// run with synchronous=NORMAL, whose COMMIT only writes the frames, and this flushes
// the log itself: once per round, for every batch committed since the last, while
// the committer goes on with the next. A write is answered, and its after-commit work
// runs, only once the flush covering it has returned, so a 2xx still means on disk.
//
// Why this is safe: the log's frames are chained by checksums, so after a crash SQLite
// recovers a prefix of the commits, never a later one without an earlier; one flush
// of the file covers every frame written to it before. A commit is visible to readers
// before its flush, but anything done because of it goes through a later write, which
// is answered after a later flush. NORMAL itself keeps the database consistent: it
// still syncs the log before each checkpoint and the database file after it.
//
// A failed flush is final for this process: after one, Linux may report later
// flushes as successful though the failed pages were dropped, so every write from
// then on fails (ErrUnavailable) until a restart recovers from what is on disk.
type walSyncer struct {
	f   *os.File // the log
	log *slog.Logger
	c   *committer

	mu      sync.Mutex
	pending []committed
	failed  error // sticky
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	// flush flushes f (fdatasync); tests replace it.
	flush func(*os.File) error
}

// committed is a batch whose COMMIT returned, waiting for its flush.
type committed struct {
	batch  []*writeReq
	errs   []error
	afters [][]func()
}

// newWALSyncer flushes wal, SQLite's log file, opened by the caller; close closes it.
func newWALSyncer(wal *os.File, c *committer, log *slog.Logger) *walSyncer {
	s := &walSyncer{f: wal, c: c, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), flush: fdatasync}
	go s.run()
	return s
}

// err reports a flush that failed: the committer refuses every write after one.
func (s *walSyncer) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// add queues a committed batch for the next flush.
func (s *walSyncer) add(b committed) {
	s.mu.Lock()
	s.pending = append(s.pending, b)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// close flushes and answers what is pending, then stops.
func (s *walSyncer) close() {
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		s.f.Close()
	})
}

func (s *walSyncer) run() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
		case <-s.stop:
			s.round()
			return
		}
		s.round()
	}
}

// round flushes the log once and answers every batch committed before it.
func (s *walSyncer) round() {
	s.mu.Lock()
	todo := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	err := s.sync()
	if err != nil {
		s.mu.Lock()
		if s.failed == nil {
			s.failed = err
			s.log.Error("flushing the database log to disk failed: every write is refused until a restart", "err", err)
		}
		s.mu.Unlock()
		err = fmt.Errorf("%w: flush the log to disk: %v", ErrUnavailable, err)
	}
	for _, b := range todo {
		if err != nil {
			s.c.finish(b.batch, nil, err)
			continue
		}
		for _, fs := range b.afters {
			for _, f := range fs {
				f()
			}
		}
		s.c.finish(b.batch, b.errs, nil)
	}
}

// sync flushes the log. It is always the same file: DB holds a connection open for
// as long as it is open (DB.pin), and SQLite removes or replaces its log only when
// the last connection to the database closes.
func (s *walSyncer) sync() error {
	if err := s.err(); err != nil {
		return err
	}
	return s.flush(s.f)
}
