package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one row of the audit trail. It names who did what to which object and
// how it ended; it never carries message content, only ids and results.
type AuditEntry struct {
	Seq       int64
	At        time.Time
	TenantID  string
	Principal string
	Action    string
	Object    string
	Result    string
	Client    string
	Detail    string
	PrevHash  []byte
	Hash      []byte
}

// AuditCheckpoint is a signed statement that the entry at Seq has hash Hash.
type AuditCheckpoint struct {
	Seq       int64
	At        time.Time
	Hash      []byte
	KeyID     string
	Signature []byte
}

// AuditFilter selects audit entries, oldest first, after the AfterSeq cursor.
type AuditFilter struct {
	TenantID  string
	Action    string
	Principal string
	Since     time.Time
	Until     time.Time
	AfterSeq  int64
	Limit     int
}

// AuditHashSize is the length of every link in the chain; the genesis link is that
// many zero bytes.
const AuditHashSize = sha256.Size

// auditLockKey is the PostgreSQL advisory lock that serialises appends across processes.
const auditLockKey = 72452

// AuditHash is SHA-256(prev || canonical encoding of e). The encoding is a version tag,
// the seq and the time in milliseconds as 8-byte big-endian integers, then each text
// field as a 4-byte big-endian length and its bytes, always in the same order.
func AuditHash(prev []byte, e *AuditEntry) []byte {
	h := sha256.New()
	h.Write(prev)
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(s))) // #nosec G115 -- fields are far below 4 GiB
		h.Write(n[:4])
		h.Write([]byte(s))
	}
	field("sealpost.audit.v1")
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq)) // #nosec G115 -- two's-complement bytes by design; the stored chain uses them
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(ms(e.At))) // #nosec G115 -- as above
	h.Write(n[:])
	for _, s := range []string{e.TenantID, e.Principal, e.Action, e.Object, e.Result, e.Client, e.Detail} {
		field(s)
	}
	return h.Sum(nil)
}

// AppendAudit adds e to the chain as part of the caller's write. The entry is linked
// (Seq, PrevHash, Hash set) just before the shared transaction commits, and is dropped
// if the caller's write fails. Deferring the link keeps the chain's serialisation — on
// PostgreSQL an advisory lock held until commit — to the short tail of each
// transaction, so concurrent committers still overlap their other work.
func (tx *Tx) AppendAudit(ctx context.Context, e *AuditEntry) error {
	if e.Action == "" {
		return errors.New("audit entry has no action")
	}
	tx.audit = append(tx.audit, e)
	return nil
}

// flushAudit links and inserts the transaction's pending entries at the head of the
// chain. Writers are serialised: on SQLite by the single writer transaction, on
// PostgreSQL by an advisory lock held until commit, so the chain never forks.
func (tx *Tx) flushAudit(ctx context.Context) error {
	if len(tx.audit) == 0 {
		return nil
	}
	if tx.dialect == Postgres {
		if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
			return err
		}
	}
	var last int64
	var prev []byte
	err := tx.queryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&last, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		prev = make([]byte, AuditHashSize)
	case err != nil:
		return err
	case len(prev) != AuditHashSize:
		return fmt.Errorf("audit head %d has a malformed hash", last)
	}
	for _, e := range tx.audit {
		if e.At.IsZero() {
			e.At = time.Now()
		}
		e.At = fromMS(ms(e.At))
		e.Seq, e.PrevHash = last+1, prev
		e.Hash = AuditHash(prev, e)
		last, prev = e.Seq, e.Hash
	}
	// A grouped commit carries the entries of many writes: they go in a few
	// statements rather than one each.
	for rest := tx.audit; len(rest) > 0; {
		batch := rest[:min(len(rest), auditPerInsert)]
		rest = rest[len(batch):]
		args := make([]any, 0, 11*len(batch))
		for _, e := range batch {
			args = append(args, e.Seq, ms(e.At), e.TenantID, e.Principal, e.Action, e.Object, e.Result, e.Client, e.Detail, e.PrevHash, e.Hash)
		}
		q := insertRows("INSERT INTO audit_log (seq, at, tenant_id, principal, action, object, result, client, detail, prev_hash, hash)", 11, len(batch), "")
		if _, err := tx.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	tx.audit = nil
	return nil
}

// auditPerInsert bounds the rows of one INSERT of audit entries (11 values a row,
// within SQLite's limit on variables).
const auditPerInsert = 64

// AppendAudit appends entries, in order, in one write.
func (db *DB) AppendAudit(ctx context.Context, entries ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		for _, e := range entries {
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

const auditCols = "seq, at, tenant_id, principal, action, object, result, client, detail, prev_hash, hash"

func scanAudit(row interface{ Scan(...any) error }) (*AuditEntry, error) {
	var e AuditEntry
	var at int64
	if err := row.Scan(&e.Seq, &at, &e.TenantID, &e.Principal, &e.Action, &e.Object, &e.Result, &e.Client, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	e.At = fromMS(at)
	return &e, nil
}

// AuditEntries lists entries matching f.
func (db *DB) AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	where := []string{"seq > $1"}
	args := []any{f.AfterSeq}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.TenantID != "" {
		add("tenant_id = $%d", f.TenantID)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Principal != "" {
		add("principal = $%d", f.Principal)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < $%d", ms(f.Until))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxPage {
		// Not cut down quietly: a caller that asked for more would think it had everything.
		return nil, fmt.Errorf("page of %d: at most %d", f.Limit, MaxPage)
	}
	args = append(args, f.Limit)
	// #nosec G201 -- only fixed column names, conditions and numbered placeholders are formatted in
	q := fmt.Sprintf("SELECT %s FROM audit_log WHERE %s ORDER BY seq LIMIT $%d", auditCols, strings.Join(where, " AND "), len(args))
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditScan streams every entry with seq >= fromSeq in seq order, stopping at fn's first
// error, which it returns.
func (db *DB) AuditScan(ctx context.Context, fromSeq int64, fn func(*AuditEntry) error) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+auditCols+" FROM audit_log WHERE seq >= $1 ORDER BY seq", fromSeq)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LastAudit returns the head of the chain, or ErrNotFound when the log is empty.
func (db *DB) LastAudit(ctx context.Context) (*AuditEntry, error) {
	return scanAudit(db.sql.QueryRowContext(ctx, "SELECT "+auditCols+" FROM audit_log ORDER BY seq DESC LIMIT 1"))
}

// InsertCheckpoint stores a signed checkpoint.
func (db *DB) InsertCheckpoint(ctx context.Context, cp *AuditCheckpoint) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO audit_checkpoints (seq, at, hash, key_id, signature) VALUES ($1, $2, $3, $4, $5)",
			cp.Seq, ms(cp.At), cp.Hash, cp.KeyID, cp.Signature)
		return err
	})
}

const checkpointCols = "seq, at, hash, key_id, signature"

func scanCheckpoint(row interface{ Scan(...any) error }) (*AuditCheckpoint, error) {
	var cp AuditCheckpoint
	var at int64
	if err := row.Scan(&cp.Seq, &at, &cp.Hash, &cp.KeyID, &cp.Signature); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	cp.At = fromMS(at)
	return &cp, nil
}

// LatestCheckpoint returns the checkpoint with the highest seq, or ErrNotFound.
func (db *DB) LatestCheckpoint(ctx context.Context) (*AuditCheckpoint, error) {
	return scanCheckpoint(db.sql.QueryRowContext(ctx, "SELECT "+checkpointCols+" FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"))
}

// Checkpoints lists every stored checkpoint in seq order.
func (db *DB) Checkpoints(ctx context.Context) ([]*AuditCheckpoint, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+checkpointCols+" FROM audit_checkpoints ORDER BY seq")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AuditCheckpoint
	for rows.Next() {
		cp, err := scanCheckpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}
