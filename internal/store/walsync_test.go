package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

func insertTenant(id string) func(context.Context, *Tx) error {
	return func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped) VALUES ($1, $2, $3, $4, $5)",
			id, id, ms(time.Now()), "m", []byte{1})
		return err
	}
}

// TestWriteAnsweredAfterLogFlush: on SQLite a write returns, and its after-commit work
// runs, only once the flush of the log that covers its commit has returned — while the
// next batch commits meanwhile instead of waiting for the disk.
func TestWriteAnsweredAfterLogFlush(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t, storetest.SQLiteURL(t), Options{})
	flushing, release := make(chan struct{}, 16), make(chan struct{})
	var flushes atomic.Int32
	db.commit.sync.flush = func(f *os.File) error {
		if !strings.HasSuffix(f.Name(), "-wal") {
			t.Errorf("flushed %s, not the log", f.Name())
		}
		flushes.Add(1)
		flushing <- struct{}{}
		<-release
		return fdatasync(f)
	}

	var afterRan atomic.Bool
	first := make(chan error, 1)
	go func() {
		first <- db.Write(ctx, func(ctx context.Context, tx *Tx) error {
			tx.AfterCommit(func() { afterRan.Store(true) })
			return insertTenant("first")(ctx, tx)
		})
	}()
	<-flushing // first is committed; its flush is under way

	// The committer is free: a second write commits while the first waits on the disk.
	second := make(chan error, 1)
	go func() { second <- db.Write(ctx, insertTenant("second")) }()
	waitFor(t, func() bool {
		var n int
		db.sql.QueryRow("SELECT count(*) FROM tenants WHERE id = 'second'").Scan(&n)
		return n == 1
	})
	select {
	case err := <-first:
		t.Fatalf("the write returned (%v) before its flush did", err)
	case err := <-second:
		t.Fatalf("the second write returned (%v) before any flush did", err)
	case <-time.After(100 * time.Millisecond):
	}
	if afterRan.Load() {
		t.Fatal("after-commit work ran before the flush")
	}
	close(release)
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if !afterRan.Load() {
		t.Fatal("after-commit work did not run")
	}
	if n := flushes.Load(); n < 1 || n > 2 {
		t.Fatalf("%d flushes for two batches", n)
	}
}

// TestFailedLogFlushRefusesWrites: a failed flush fails the writes it covered, and every
// write after it without running it: the disk may have dropped what it failed to write.
func TestFailedLogFlushRefusesWrites(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t, storetest.SQLiteURL(t), Options{})
	if err := db.Write(ctx, insertTenant("before")); err != nil {
		t.Fatal(err)
	}
	db.commit.sync.flush = func(*os.File) error { return errors.New("input/output error") }
	if err := db.Write(ctx, insertTenant("during")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("write covered by a failed flush: %v, want ErrUnavailable", err)
	}
	ran := false
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error { ran = true; return nil })
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("write after a failed flush: %v, want ErrUnavailable naming the cause", err)
	}
	if ran {
		t.Fatal("a write ran after a failed flush")
	}
}

// TestWALRestartsUnderSustainedWrites: with commits back to back, checkpoints running
// beside them never find the log fully copied, and without the committer's help the
// log would grow for as long as the writes go on. It stays near walResetAt.
func TestWALRestartsUnderSustainedWrites(t *testing.T) {
	defer func(p time.Duration, r, c int) { walPace, walResetAt, walCaughtUp = p, r, c }(walPace, walResetAt, walCaughtUp)
	walPace, walResetAt, walCaughtUp = time.Millisecond, 64, 16
	ctx := context.Background()
	url := storetest.SQLiteURL(t)
	db := openMigrated(t, url, Options{})
	wal := strings.TrimPrefix(url, "sqlite:") + "-wal"

	// 4,000 writes from four writers append some 12,000 frames: without the
	// committer's help the log would end near 50 MB, four times the bound below.
	const writes = 4000
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := next.Add(1); i <= writes; i = next.Add(1) {
				if err := db.Write(ctx, insertTenant(fmt.Sprint("t", i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The log file keeps the largest size it reached.
	fi, err := os.Stat(wal)
	if err != nil {
		t.Fatal(err)
	}
	const frame = 4096 + 24
	if bound := int64(48 * walResetAt * frame); fi.Size() > bound {
		t.Fatalf("the log grew to %d bytes (%d frames) over %d writes; bound %d", fi.Size(), fi.Size()/frame, writes, bound)
	}
	t.Logf("the log's largest size: %d frames", fi.Size()/frame)
}

// TestSQLiteURLWithQueryOpens: a query after the path is ignored, as it always was —
// the log the committers flush is the path's, not the path's with the query.
func TestSQLiteURLWithQueryOpens(t *testing.T) {
	db := openMigrated(t, storetest.SQLiteURL(t)+"?cache=shared", Options{})
	if err := db.Write(context.Background(), insertTenant("q")); err != nil {
		t.Fatal(err)
	}
}
