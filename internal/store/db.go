// Package store is the database: SQLite (embedded, pure Go) and PostgreSQL behind one
// set of named queries, embedded migrations, and a group committer that lets many
// concurrent writers share one transaction and one fsync.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a row does not exist or belongs to another tenant: callers
// must not be able to tell the two apart.
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps failures of the database itself (down, disk full), which the
// faces turn into 503 / 451 rather than a client error.
var ErrUnavailable = errors.New("database unavailable")

// DB is an open database.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	log     *slog.Logger
	commit  *committer
	wal     *walKeeper // SQLite: checkpoints the log beside the commits
	pin     *sql.Conn  // SQLite: held open, so the log is one file while DB is open
	stmts   sync.Map   // query → *sql.Stmt; SQLite only (pgx caches statements itself)
	jobIDs  idBlock    // PostgreSQL: job ids taken from the sequence ahead (NewJobIDs)
}

// prepared returns a statement prepared once for q, or nil where preparing each time
// is the driver's business. SQLite parses every statement it is handed: on the
// delivery path that parsing cost more than the queries.
func (db *DB) prepared(ctx context.Context, q string) *sql.Stmt {
	if db.dialect != SQLite {
		return nil
	}
	if st, ok := db.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	st, err := db.sql.PrepareContext(ctx, anonymousPlaceholders(q))
	if err != nil {
		return nil // the unprepared path reports the error
	}
	if prev, loaded := db.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

// queryRow runs a single-row query, through a prepared statement where that helps.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, q, args...)
}

// Options tune Open.
type Options struct {
	Logger *slog.Logger
	// MaxBatch caps how many writes share one transaction.
	MaxBatch int
	// Committers is how many transactions may be in flight at once (SQLite: always 1).
	Committers int
	// WarmConns is how many PostgreSQL connections Open makes ready before it
	// returns (a server: its committers' and the readers' of a busy moment).
	WarmConns int
}

// Open connects to a database URL: "sqlite:PATH" / "file:PATH" / a path ending in .db
// for SQLite, "postgres://…" for PostgreSQL. It does not migrate; call Migrate.
func Open(ctx context.Context, dbURL string, opt Options) (*DB, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	db := &DB{log: opt.Logger}
	var err error
	var sqlitePath string
	switch {
	case strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://"):
		db.dialect = Postgres
		db.sql, err = sql.Open("pgx", withConnectTimeout(dbURL))
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.sql.SetMaxOpenConns(32)
		db.sql.SetMaxIdleConns(32)
		if opt.Committers <= 0 {
			// Two transactions in flight overlap one's round trips with the other's
			// work; more only split the same writes into smaller commits, each paying
			// the audit lock and rollup statements again. Measured (bench, plain,
			// alternated): PostgreSQL's own CPU 5.8-6.3 s with two against 7.0-7.3 s
			// with four, delivered/s 348-373 against 328-347; one is no faster.
			opt.Committers = 2
		}
	default:
		db.dialect = SQLite
		path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		sqlitePath = path
		if path == "" {
			return nil, errors.New("sqlite database url has no path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		// WAL lets readers run beside the single writer. synchronous=NORMAL: a COMMIT
		// writes the log but does not flush it; the committer's walSyncer flushes it
		// before any write is answered (a 202 promises the disk), outside the
		// writer's lock. IMMEDIATE transactions take the write lock up front, so two
		// writers never deadlock on upgrade.
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(ON)")
		// Statement journals (one per savepoint of a grouped commit) stay in memory
		// instead of spilling to temporary files: a batch's journal is bounded by
		// the batch, and writing it to disk cost a system call per page.
		q.Add("_pragma", "temp_store(MEMORY)")
		// No checkpoint inside a COMMIT: the walKeeper copies the log beside them.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		q.Set("_txlock", "immediate")
		db.sql, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.sql.SetMaxOpenConns(9) // eight, and the pin
		db.sql.SetMaxIdleConns(9) // the default of 2 would close and reopen connections under load
		opt.Committers = 1
		if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.sql.PingContext(pctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if db.dialect == Postgres && opt.WarmConns > 0 {
		db.warm(pctx, opt.WarmConns)
	}
	var wal *os.File
	if db.dialect == SQLite {
		if wal, err = db.pinLog(pctx, sqlitePath); err != nil {
			db.sql.Close()
			return nil, err
		}
		db.wal = newWALKeeper(db.sql)
	}
	db.commit = newCommitter(db, opt.MaxBatch, opt.Committers, wal)
	return db, nil
}

// pinLog holds one connection open for the DB's life, which keeps SQLite's log the
// same file throughout (it is removed only when the last connection closes), and
// opens that file for the committers to flush (walSyncer).
func (db *DB) pinLog(ctx context.Context, path string) (*os.File, error) {
	pin, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// A read makes the connection open the log (creating it for a new database).
	var mode string
	if err := pin.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		pin.Close()
		return nil, fmt.Errorf("%w: sqlite journal mode %q, want wal: %v", ErrUnavailable, mode, err)
	}
	if _, err := pin.ExecContext(ctx, "SELECT count(*) FROM sqlite_schema"); err != nil {
		pin.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	wal, err := os.Open(path + "-wal") // #nosec G304 -- the operator's database path
	if err != nil {
		pin.Close()
		return nil, fmt.Errorf("open the database log: %w", err)
	}
	db.pin = pin
	return wal, nil
}

// warm opens n pooled connections at once and has each read a table, so the first
// requests after a start do not each wait for a new PostgreSQL backend to start and
// load its catalog caches (commits of 100–270 ms in the first seconds, otherwise).
// Best effort: a connection that fails here is made again when needed.
func (db *DB) warm(ctx context.Context, n int) {
	conns := make([]*sql.Conn, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			c, err := db.sql.Conn(ctx)
			if err != nil {
				return
			}
			conns[i] = c
			// An unmigrated database has no such table: the error is ignored.
			c.ExecContext(ctx, "SELECT 1 FROM messages WHERE id = ''")
		})
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// withConnectTimeout bounds how long connecting may take unless the URL says: with
// no bound, a database host that drops packets holds every request that needs a new
// connection for as long as its client waits, instead of answering "unavailable".
func withConnectTimeout(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL // the driver reports the bad URL
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return dbURL
	}
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	return u.String()
}

// Dialect reports the engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Close stops the committer (waiting for queued writes) and closes the pool.
func (db *DB) Close() error {
	db.commit.close()
	if db.wal != nil {
		db.wal.close()
		db.pin.Close()
	}
	db.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	return db.sql.Close()
}

// SQL exposes the pool for tests that inspect or tamper with rows.
func (db *DB) SQL() *sql.DB { return db.sql }

// Tx is one write's view of a (possibly shared) transaction.
type Tx struct {
	tx      *sql.Tx
	db      *DB
	dialect Dialect
	after   []func()
	// groups holds recipients' report groups this write has read while updating
	// them (PostgreSQL), so counting its events needs no second query. Per write:
	// a write that fails is rolled back, and what it read with it.
	groups   map[string]*rcptGroups
	audit    []*AuditEntry // appended at commit, in order
	rollups  []rollupDelta // added to the report rollups at commit
	webhooks []int64       // events whose webhook jobs are written at commit
	// later holds inserts that need no answer, waiting to ride in the write's next
	// multi-part statement (PostgreSQL; see insertLater). Per write, like groups.
	later *withInserts
	// retire holds a RetireJob's arguments waiting to ride in the write's recipient
	// update (PostgreSQL); any other statement runs it first. Per write.
	retire []any
	// failed is a waiting statement's failure met by a statement that could not return
	// it (queryRow): the write's error all the same (runWrite).
	failed error
}

// startWrite forgets what the transaction's previous write kept for itself alone
// (after, groups, later, retire, failed), before the next write runs.
func (tx *Tx) startWrite() {
	tx.after, tx.groups, tx.later, tx.retire, tx.failed = nil, nil, nil, nil, nil
}

// insertLater inserts rows rows of len(args)/rows values: on PostgreSQL with the
// write's next multi-part statement (a message's, or its events'), which saves a round
// trip, or at the end of the write; on SQLite, which has no round trips, now. Nothing
// in the write may read the rows before then.
func (tx *Tx) insertLater(ctx context.Context, head string, rows int, tail string, args ...any) error {
	if rows == 0 {
		return nil
	}
	return tx.statementLater(ctx, func(first int) string { return insertRowsFrom(head, len(args)/rows, rows, tail, first) }, args...)
}

// statementLater is insertLater for any statement that needs no answer: build
// returns its text with placeholders numbered from first.
func (tx *Tx) statementLater(ctx context.Context, build func(first int) string, args ...any) error {
	if tx.dialect != Postgres {
		_, err := tx.exec(ctx, build(1), args...)
		return err
	}
	if tx.later == nil {
		tx.later = &withInserts{}
	}
	tx.later.addQuery(build, args...)
	return nil
}

// takeLater hands the waiting inserts to the statement being built (nil if none).
func (tx *Tx) takeLater() *withInserts {
	w := tx.later
	tx.later = nil
	return w
}

// flushLater runs the inserts still waiting when the write's function returns.
func (tx *Tx) flushLater(ctx context.Context) error {
	w := tx.takeLater()
	if w == nil {
		return nil
	}
	_, err := tx.exec(ctx, w.b.String()+"SELECT 1", w.args...)
	return err
}

// pending runs what the write left waiting that the next statement must not overtake:
// a retirement (RetireJob). Its failure is the write's.
func (tx *Tx) pending(ctx context.Context) error {
	if tx.retire == nil {
		return nil
	}
	err := tx.flushRetire(ctx)
	if err != nil && tx.failed == nil {
		tx.failed = err
	}
	return err
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := tx.pending(ctx); err != nil {
		return nil, err
	}
	if st := tx.db.prepared(ctx, q); st != nil {
		// Reuses the statement already prepared on this transaction's connection.
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, q, args...)
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := tx.pending(ctx); err != nil {
		return nil, err
	}
	if st := tx.db.prepared(ctx, q); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, q, args...)
}

func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	tx.pending(ctx) // a failure is kept in tx.failed
	if st := tx.db.prepared(ctx, q); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, q, args...)
}

// AfterCommit runs f once the transaction holding this write has committed.
func (tx *Tx) AfterCommit(f func()) { tx.after = append(tx.after, f) }

// Write runs fn inside a transaction shared with other concurrent writes and returns
// once that transaction is durably committed (or failed). fn's own error rolls back
// only fn's changes (a savepoint), not the others'. fn must not block on anything but
// the database: it holds the writer.
func (db *DB) Write(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return db.commit.submit(ctx, fn, inTurn, 0)
}

// WritePriority is Write for a write that a fact outside the database already waits on
// (the remote server accepted a message): it joins the next shared transaction ahead
// of writes queued with Write, so the time in which a crash could lose it is one
// commit, not a queue of them.
func (db *DB) WritePriority(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return db.commit.submit(ctx, fn, ahead, 0)
}

// WriteSoon is Write for a write whose fact is already durable elsewhere (a
// delivery the local accept log holds): rather than commit alone it waits up to
// within for another write to share a transaction with, and commits by then in any
// case. It returns once committed, like Write.
func (db *DB) WriteSoon(ctx context.Context, within time.Duration, fn func(ctx context.Context, tx *Tx) error) error {
	return db.commit.submit(ctx, fn, soon, within)
}

// now is the store's clock in the unit every table uses.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}
