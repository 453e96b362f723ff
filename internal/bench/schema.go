package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// freshSchema gives a PostgreSQL run a schema of its own, as each SQLite run has a
// file of its own: runs sharing tables would find each other's queues, TLS probe
// results and archive entries (whose master keys the next run does not hold), and the
// later runs would measure those. drop removes the schema and everything in it.
// postmaster is the PostgreSQL server's main process when it runs on this machine
// (0 otherwise): the parent of the backend serving this connection.
func freshSchema(ctx context.Context, dbURL string) (url string, drop func(), postmaster int, err error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return "", nil, 0, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, 0, fmt.Errorf("create schema for the run: %w", err)
	}
	drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}
	u, err := neturl.Parse(dbURL)
	if err != nil {
		drop()
		return "", nil, 0, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, localPostmaster(ctx, db), nil
}

// localPostmaster finds the PostgreSQL server's main process from a backend's pid, if
// that backend is a process here; 0 when the server is elsewhere (or in a container
// whose processes this one cannot see).
func localPostmaster(ctx context.Context, db *sql.DB) int {
	var backend int
	if err := db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0
	}
	f, ok := procStat(backend)
	if !ok {
		return 0
	}
	pm, _ := strconv.Atoi(f[1])
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pm) + "/comm") // #nosec G304 -- a /proc path built from a number
	if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
		return 0
	}
	return pm
}
