package store

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestDeadlockIsRetryLater has two processes' grouped commits lock two rows in
// opposite orders. PostgreSQL breaks the cycle by failing one of the writes: that
// write must be reported as "try again later" (the faces answer 503 / 451 4.3.0 and the
// worker writes again), not as an internal error, and the other must commit.
func TestDeadlockIsRetryLater(t *testing.T) {
	ctx := context.Background()
	dbs := openProcesses(t, 2)
	if err := dbs[0].Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id) VALUES ('a', 'a', 0, 'm'), ('b', 'b', 0, 'm')")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	touch := func(ctx context.Context, tx *Tx, id string) error {
		_, err := tx.exec(ctx, "UPDATE tenants SET name = name WHERE id = $1", id)
		return err
	}
	locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	errs := make(chan error, 2)
	for i, order := range [2][2]string{{"a", "b"}, {"b", "a"}} {
		go func() {
			errs <- dbs[i].Write(ctx, func(ctx context.Context, tx *Tx) error {
				if err := touch(ctx, tx, order[0]); err != nil {
					return err
				}
				close(locked[i])
				<-locked[1-i] // both hold their first row: each now waits for the other's
				return touch(ctx, tx, order[1])
			})
		}()
	}
	var failed []error
	for range 2 {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("want exactly one write failed by the deadlock, got %v", failed)
	}
	var pe *pgconn.PgError
	if !errors.As(failed[0], &pe) || pe.Code != "40P01" {
		t.Fatalf("the failed write's error is %v, want a deadlock (40P01)", failed[0])
	}
	if !IsUnavailable(failed[0]) {
		t.Errorf("a deadlock is not reported as retry-later: %v", failed[0])
	}
}

// openProcesses opens n stores on one migrated PostgreSQL database, as n server
// processes would, closed when the test ends.
func openProcesses(t *testing.T, n int) []*DB {
	t.Helper()
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	dbs := make([]*DB, n)
	for i := range dbs {
		db, err := Open(ctx, url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	if _, err := dbs[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return dbs
}
