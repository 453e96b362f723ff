package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// unavailableCalls are a read and a write, as any face makes them.
func unavailableCalls(t *testing.T, db *store.DB) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, rerr := db.Tenant(ctx, "t1")
	werr := db.CreateTenant(ctx, &store.Tenant{ID: "t2", Name: "t2", CreatedAt: time.Now(), KeyMasterID: "m", KeyWrapped: []byte{1}})
	return []error{rerr, werr, db.Ping(ctx)}
}

func TestPostgresOutageIsUnavailableAndRecovers(t *testing.T) {
	proxy, url := storetest.ProxyURL(t, storetest.PostgresURL(t))
	db := open(t, url)
	seedTenant(t, db, "t1")
	for _, mode := range []struct {
		name string
		cut  func()
	}{{"refused", proxy.Cut}, {"silent", proxy.Stall}} {
		mode.cut()
		start := time.Now()
		for i, err := range unavailableCalls(t, db) {
			if err == nil || !store.IsUnavailable(err) {
				t.Errorf("%s: call %d: %v is not classified unavailable", mode.name, i, err)
			}
		}
		if took := time.Since(start); took > 25*time.Second {
			t.Errorf("%s: unavailable answers took %v", mode.name, took)
		}
		proxy.Restore()
		if _, err := db.Tenant(context.Background(), "t1"); err != nil {
			t.Fatalf("%s: after the database is back: %v", mode.name, err)
		}
	}
}

func TestSQLiteLockedIsUnavailableAndRecovers(t *testing.T) {
	url := storetest.SQLiteURL(t)
	db := open(t, url)
	seedTenant(t, db, "t1")
	release := storetest.LockSQLite(t, url)
	ctx := context.Background()
	err := db.CreateTenant(ctx, &store.Tenant{ID: "t2", Name: "t2", CreatedAt: time.Now(), KeyMasterID: "m", KeyWrapped: []byte{1}})
	if err == nil || !store.IsUnavailable(err) {
		t.Fatalf("write while another process holds the lock: %v is not classified unavailable", err)
	}
	release()
	if err := db.CreateTenant(ctx, &store.Tenant{ID: "t2", Name: "t2", CreatedAt: time.Now(), KeyMasterID: "m", KeyWrapped: []byte{1}}); err != nil {
		t.Fatalf("write after the lock is released: %v", err)
	}
}

// TestSQLiteFullDiskIsUnavailable makes SQLite run out of room (a page limit stands
// in for the disk) and checks the engine's own error is classified.
func TestSQLiteFullDiskIsUnavailable(t *testing.T) {
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	if _, err := raw.Exec("CREATE TABLE t (v BLOB); CREATE TABLE u (k TEXT PRIMARY KEY); INSERT INTO u VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	// A constraint the caller broke is the caller's problem, not the database's.
	if _, err := raw.Exec("INSERT INTO u VALUES ('a')"); err == nil || store.IsUnavailable(err) {
		t.Errorf("duplicate key: %v classified unavailable", err)
	}
	if _, err := raw.Exec("PRAGMA max_page_count = 3"); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = raw.Exec("INSERT INTO t VALUES (randomblob(4000))")
	}
	if full == nil || !strings.Contains(full.Error(), "full") {
		t.Fatalf("expected a full database, got %v", full)
	}
	if !store.IsUnavailable(full) {
		t.Errorf("%v is not classified unavailable", full)
	}
}

func TestIsUnavailableLeavesOtherErrorsAlone(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{store.ErrNotFound, false},
		{errors.New("some bug"), false},
		{context.Canceled, false},
		{&pgconn.PgError{Code: "23505"}, false},                          // unique violation
		{&pgconn.PgError{Code: "42601"}, false},                          // syntax error
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "53100"}), true}, // disk full
		{&pgconn.PgError{Code: "57P01"}, true},                           // admin shutdown
		{&pgconn.PgError{Code: "08006"}, true},                           // connection failure
		{&pgconn.PgError{Code: "40P01"}, true},                           // deadlock: the write failed, try again
		{&pgconn.PgError{Code: "40001"}, true},                           // serialization failure
		{fmt.Errorf("%w: commit: x", store.ErrUnavailable), true},
	} {
		if got := store.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
