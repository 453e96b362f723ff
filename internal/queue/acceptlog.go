package queue

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
)

// acceptLog is a small local file, fsync'd, naming each job whose message the remote
// server accepted (250) and whose outcome is not yet committed. The database commit of
// an outcome can wait behind a batch of other writes (tens of milliseconds under
// load); this file's fsync cannot, so a crash in between no longer means "send
// again": the next start of any process on this data directory records those jobs as
// delivered instead. Entries hold only job ids and attempt numbers — nothing about
// the message or its recipient.
//
// Each process writes its own file and holds a lock on a companion file while it
// runs; a file whose lock can be taken belongs to a process that has died.
type acceptLog struct {
	dir, name string
	lock      *os.File

	mu      sync.Mutex
	f       *os.File
	size    int64
	limit   int64              // compactAt, but smaller in tests
	written uint64             // entries appended
	pending map[int64]logEntry // appended, outcome not yet committed

	syncMu sync.Mutex
	synced uint64 // entries known to be on disk
}

type logEntry struct {
	Job     int64 `json:"job"`
	Attempt int   `json:"attempt"`
}

// compactAt is the size past which the file is rewritten with only pending entries;
// with nothing pending it is emptied at a sixteenth of that.
const compactAt = 1 << 20

const logPrefix = "accepted-"

// openAcceptLog creates this process's log in dir; owner names it.
func openAcceptLog(dir, owner string) (*acceptLog, error) {
	name := logPrefix + strings.NewReplacer("/", "_", "\\", "_", ":", "_").Replace(owner)
	lock, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- the data directory and a name with its separators replaced
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600) // #nosec G304 -- the data directory and a name with its separators replaced
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &acceptLog{dir: dir, name: name, lock: lock, f: f, limit: compactAt, pending: map[int64]logEntry{}}, nil
}

// accepted records, durably, that job's attempt was accepted by the remote server.
// Concurrent callers share fsyncs.
func (l *acceptLog) accepted(job int64, attempt int) error {
	b, _ := json.Marshal(logEntry{Job: job, Attempt: attempt})
	l.mu.Lock()
	n, err := l.f.Write(append(b, '\n'))
	l.size += int64(n)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	l.pending[job] = logEntry{Job: job, Attempt: attempt}
	l.written++
	mine := l.written
	l.mu.Unlock()

	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= mine {
		return nil // someone else's fsync covered this entry
	}
	l.mu.Lock()
	upTo := l.written
	l.mu.Unlock()
	if err := l.f.Sync(); err != nil {
		return err
	}
	l.synced = upTo
	return nil
}

// recorded forgets a job whose outcome is committed, and keeps the file small.
func (l *acceptLog) recorded(job int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, job)
	switch {
	case len(l.pending) == 0 && l.size >= l.limit/16:
	case l.size >= l.limit:
	default:
		return
	}
	// Rewritten in place, with only the pending entries. Stale entries are harmless
	// (recovery checks each job in the database), so the truncate needs no fsync; a
	// crash between it and the rewrite loses the pending entries, and those jobs fall
	// back to their DATA mark — a possible duplicate, never a loss.
	var buf []byte
	for _, e := range l.pending {
		b, _ := json.Marshal(e)
		buf = append(append(buf, b...), '\n')
	}
	if err := l.f.Truncate(0); err != nil {
		return
	}
	l.f.Seek(0, 0)
	n, _ := l.f.Write(buf)
	l.size = int64(n)
	if len(buf) > 0 {
		l.f.Sync()
	}
}

func (l *acceptLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f.Close()
	if len(l.pending) == 0 {
		os.Remove(filepath.Join(l.dir, l.name+".log"))
		os.Remove(filepath.Join(l.dir, l.name+".lock"))
	}
	l.lock.Close()
}

// orphanLogs returns the entries of logs in dir left by processes that have died, and
// a function that lets go of those logs, deleting them once their entries are recorded.
func orphanLogs(dir, self string) ([]logEntry, func(remove bool), error) {
	locks, err := filepath.Glob(filepath.Join(dir, logPrefix+"*.lock"))
	if err != nil {
		return nil, nil, err
	}
	var entries []logEntry
	var held []*os.File
	var files []string
	release := func() {
		for _, f := range held {
			f.Close()
		}
	}
	for _, lp := range locks {
		base := strings.TrimSuffix(lp, ".lock")
		if filepath.Base(base) == self {
			continue
		}
		lock, err := os.OpenFile(lp, os.O_RDWR, 0o600) // #nosec G304 -- a lock file this worker's kind made, found by glob in the data directory
		if err != nil {
			continue
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close() // its process is alive
			continue
		}
		held = append(held, lock)
		es, err := readLog(base + ".log")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			release()
			return nil, nil, err
		}
		entries = append(entries, es...)
		files = append(files, base+".log", lp)
	}
	return entries, func(remove bool) {
		for _, f := range files {
			if remove {
				os.Remove(f)
			}
		}
		release()
	}, nil
}

// readLog reads a log's entries; a torn last line (a crash mid-append, before its
// fsync returned, so never relied on) is skipped.
func readLog(path string) ([]logEntry, error) {
	f, err := os.Open(path) // #nosec G304 -- an accept log in the data directory, named by this package
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []logEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Job > 0 {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// logAccepted notes in the local log, before anything else, that the remote server
// accepted j's attempt; it reports whether the note is on disk.
func (w *Worker) logAccepted(j *store.Job) bool {
	if w.accepted == nil || j.Sandbox {
		return false
	}
	if err := w.accepted.accepted(j.ID, j.Attempts); err != nil {
		w.log.Error("note accepted delivery in the local log", "message", j.MessageID, "err", err)
		return false
	}
	return true
}

// recoverOrphans records as delivered the jobs that dead processes' logs say the
// remote server accepted, unless they were recorded or claimed again since; the logs
// are deleted once all are written.
func (w *Worker) recoverOrphans(ctx context.Context) {
	self := ""
	if w.accepted != nil {
		self = w.accepted.name
	}
	entries, done, err := orphanLogs(w.cfg.LogDir, self)
	if err != nil {
		w.log.Error("read local logs of accepted deliveries", "err", err)
		return
	}
	recovered, complete := 0, true
	defer func() { w.orphans = !complete }()
	for _, e := range entries {
		ok, wrote := w.recoverAccepted(ctx, e)
		complete = complete && ok
		if wrote {
			recovered++
		}
	}
	done(complete)
	if !complete {
		w.log.Warn("local log of accepted deliveries kept; recording retried before the next claim")
	}
	if len(entries) > 0 {
		w.log.Info("recorded deliveries accepted before a crash", "entries", len(entries), "recorded", recovered)
	}
}

// recoverAccepted records one entry. ok is false when it could not be decided (the
// log is then kept for the next start).
func (w *Worker) recoverAccepted(ctx context.Context, e logEntry) (ok, wrote bool) {
	j, err := w.db.UnrecordedJob(ctx, e.Job, e.Attempt)
	if errors.Is(err, store.ErrNotFound) {
		return true, false // recorded before the crash, or claimed again since
	}
	if err != nil {
		w.log.Error("look up a delivery accepted before a crash", "job", e.Job, "err", err)
		return false, false
	}
	keys, err := w.tenants.Keys(ctx, j.TenantID)
	if err != nil {
		keys = nil // shredded or unreadable: the status is still recorded, without sealed detail
	}
	w.log.Info("delivery delivered", "message", j.MessageID, "recipient", j.RecipientID, "domain", j.Domain, "attempt", j.Attempts, "recovered", true)
	wrote = w.write(ctx, j, func(ctx context.Context, tx *store.Tx, detail []byte) error {
		if err := tx.StillUnrecorded(ctx, j.ID, e.Attempt); err != nil {
			return err
		}
		if err := tx.RetireJob(ctx, j, pipeline.StatusDelivered, w.now(), ""); err != nil {
			return err
		}
		return tx.SetRecipientStatus(ctx, j.RecipientID, pipeline.StatusDelivered, w.now(), detail)
	}, pipeline.StatusDelivered, &Outcome{Attempt: j.Attempts, Recovered: true}, keys, nil)
	return wrote, wrote
}
