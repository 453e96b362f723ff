// Package storetest gives tests real databases: a fresh SQLite file, and a fresh schema
// in the PostgreSQL server named by SEALPOST_TEST_POSTGRES (default: the local server).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// DefaultPostgres is the server the test script starts.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Each runs fn once per database engine, as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// SQLiteURL is a new database file in the test's temp directory.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "sealpost.db")
}

// PostgresURL creates a schema of its own for the test and returns a URL whose
// search_path points at it; the schema is dropped when the test ends. Without a
// reachable server the test is skipped, unless CI is set: then it fails, loudly.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SEALPOST_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", base)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("SEALPOST_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL is required but not reachable at %s: %v (scripts/test.sh starts it)", base, err)
		}
		t.Skipf("PostgreSQL not reachable (%v); run scripts/test.sh", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
