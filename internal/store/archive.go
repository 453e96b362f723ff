package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ArchiveEntry is one journaled message. Content, Meta and KeyWrapped are sealed and
// nil once the entry is purged; the row itself stays as a tombstone.
type ArchiveEntry struct {
	ID         string
	TenantID   string
	At         time.Time
	Direction  string
	MessageID  string
	Size       int64
	Labels     string // space-separated keyed hashes of tags and campaign
	KeyWrapped []byte
	Content    []byte
	Meta       []byte
	SealedSum  []byte
	Digest     []byte
	PurgedAt   time.Time
	// Version 2 entries keep their first sealed piece in Content and the rest in
	// archive_chunks, and leave Meta out of SealedSum.
	Version int
	// IndexedAt is zero while the entry waits for its index job.
	IndexedAt time.Time
}

// termsPerInsert bounds one multi-row INSERT of index terms (SQLite's variable limit).
const termsPerInsert = 400

// InsertArchiveEntry stores an entry and its blind-index terms in the caller's write.
// The terms go in as few statements as possible: on PostgreSQL each is a round trip.
func (tx *Tx) InsertArchiveEntry(ctx context.Context, e *ArchiveEntry, terms [][]byte) error {
	version := max(e.Version, 1)
	args := []any{e.ID, e.TenantID, ms(e.At), e.Direction, e.MessageID, e.Size, e.Labels, e.KeyWrapped, e.Content, e.Meta, e.SealedSum, e.Digest, version, nullMS(e.IndexedAt)}
	const head = "INSERT INTO archive_entries (id, tenant_id, at, direction, message_id, size, labels, key_wrapped, content, meta, sealed_sum, digest, version, indexed_at)"
	if len(terms) == 0 {
		// A journaled message's entry, its terms to come from the index job: on
		// PostgreSQL it goes in with the message's own statement.
		return tx.insertLater(ctx, head, 1, "", args...)
	}
	if _, err := tx.exec(ctx, insertRows(head, len(args), 1, ""), args...); err != nil {
		return err
	}
	return tx.insertArchiveTerms(ctx, e.ID, terms)
}

// insertArchiveTerms adds an entry's blind-index terms.
func (tx *Tx) insertArchiveTerms(ctx context.Context, entryID string, terms [][]byte) error {
	rows := make([][2]any, len(terms))
	for i, t := range terms {
		rows[i] = [2]any{t, entryID}
	}
	return tx.insertTermRows(ctx, rows)
}

// insertTermRows adds (term, entry id) rows in as few statements as possible: on
// PostgreSQL each is a round trip.
func (tx *Tx) insertTermRows(ctx context.Context, rows [][2]any) error {
	for len(rows) > 0 {
		n := min(len(rows), termsPerInsert)
		args := make([]any, 0, 2*n)
		for _, r := range rows[:n] {
			args = append(args, r[0], r[1])
		}
		if _, err := tx.exec(ctx, insertRows("INSERT INTO archive_terms (term, entry_id)", 2, n, "ON CONFLICT DO NOTHING"), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

const archiveCols = "id, tenant_id, at, direction, message_id, size, labels, key_wrapped, content, meta, sealed_sum, digest, purged_at, version, indexed_at"

func scanArchive(row interface{ Scan(...any) error }) (*ArchiveEntry, error) {
	var e ArchiveEntry
	var at int64
	var purged, indexed sql.NullInt64
	if err := row.Scan(&e.ID, &e.TenantID, &at, &e.Direction, &e.MessageID, &e.Size, &e.Labels, &e.KeyWrapped, &e.Content, &e.Meta, &e.SealedSum, &e.Digest, &purged, &e.Version, &indexed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	e.At = fromMS(at)
	e.PurgedAt = fromNullMS(purged)
	e.IndexedAt = fromNullMS(indexed)
	return &e, nil
}

// ArchiveEntry loads one entry of a tenant.
func (db *DB) ArchiveEntry(ctx context.Context, tenantID, id string) (*ArchiveEntry, error) {
	return scanArchive(db.sql.QueryRowContext(ctx, "SELECT "+archiveCols+" FROM archive_entries WHERE tenant_id = $1 AND id = $2", tenantID, id))
}

// ArchiveQuery selects entries of one tenant, oldest first, after the (AfterAt,
// AfterID) cursor. Every term must be indexed for an entry (AND).
type ArchiveQuery struct {
	TenantID      string
	Terms         [][]byte
	Since, Until  time.Time
	AfterAt       time.Time
	AfterID       string
	Limit         int
	IncludePurged bool
	WithContent   bool // load the sealed message too, not only its description
}

// ArchiveSearch returns one page of entries matching q. Entries are selected through
// the terms (an INTERSECT of their postings), so a rare word costs its postings, not a
// scan of the tenant's archive.
func (db *DB) ArchiveSearch(ctx context.Context, q ArchiveQuery) ([]*ArchiveEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []*ArchiveEntry
	err := db.archiveRows(ctx, q, func(e *ArchiveEntry) error { out = append(out, e); return nil })
	return out, err
}

// ArchiveEach streams every entry matching q (its Limit and cursor apply when set),
// holding one row at a time.
func (db *DB) ArchiveEach(ctx context.Context, q ArchiveQuery, fn func(*ArchiveEntry) error) error {
	return db.archiveRows(ctx, q, fn)
}

func (db *DB) archiveRows(ctx context.Context, q ArchiveQuery, fn func(*ArchiveEntry) error) error {
	args := []any{q.TenantID}
	where := []string{"tenant_id = $1"}
	add := func(cond string, v ...any) {
		idx := make([]any, len(v))
		for i := range v {
			args = append(args, v[i])
			idx[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, idx...))
	}
	if !q.IncludePurged {
		where = append(where, "purged_at IS NULL")
	}
	if !q.Since.IsZero() {
		add("at >= $%d", ms(q.Since))
	}
	if !q.Until.IsZero() {
		add("at < $%d", ms(q.Until))
	}
	if q.AfterID != "" {
		add("(at > $%d OR (at = $%d AND id > $%d))", ms(q.AfterAt), ms(q.AfterAt), q.AfterID)
	}
	if len(q.Terms) > 0 {
		parts := make([]string, len(q.Terms))
		for i, t := range q.Terms {
			args = append(args, t)
			parts[i] = fmt.Sprintf("SELECT entry_id FROM archive_terms WHERE term = $%d", len(args))
		}
		where = append(where, "id IN ("+strings.Join(parts, " INTERSECT ")+")")
	}
	cols := strings.Replace(archiveCols, "content, meta", "NULL, meta", 1)
	if q.WithContent {
		cols = archiveCols
	}
	limit := ""
	if q.Limit > 0 {
		args = append(args, q.Limit)
		limit = fmt.Sprintf(" LIMIT $%d", len(args))
	}
	// #nosec G201 -- only fixed column names, conditions and numbered placeholders are formatted in
	query := fmt.Sprintf("SELECT %s FROM archive_entries WHERE %s ORDER BY at, id%s", cols, strings.Join(where, " AND "), limit)
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanArchive(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ArchiveScanAll streams every entry of every tenant (tenantID "") or of one, with
// its sealed values, in (tenant, at, id) order: what a verifier reads.
func (db *DB) ArchiveScanAll(ctx context.Context, tenantID string, fn func(*ArchiveEntry) error) error {
	q := "SELECT " + archiveCols + " FROM archive_entries WHERE ($1 = '' OR tenant_id = $1) ORDER BY tenant_id, at, id"
	rows, err := db.sql.QueryContext(ctx, q, tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanArchive(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PurgeArchiveEntries crypto-shreds entries: their wrapped keys and sealed values are
// deleted with their index terms; the rows stay as tombstones. Held entries must have
// been left out by the caller.
func (tx *Tx) PurgeArchiveEntries(ctx context.Context, tenantID string, ids []string, at time.Time) error {
	for _, id := range ids {
		if _, err := tx.exec(ctx, "UPDATE archive_entries SET key_wrapped = NULL, content = NULL, meta = NULL, purged_at = $1, indexed_at = COALESCE(indexed_at, $1) WHERE tenant_id = $2 AND id = $3 AND purged_at IS NULL", ms(at), tenantID, id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM archive_chunks WHERE entry_id = $1", id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM archive_terms WHERE entry_id = $1", id); err != nil {
			return err
		}
	}
	return nil
}

// ArchiveRule is a retention period for the entries it matches.
type ArchiveRule struct {
	ID           string
	TenantID     string
	Direction    string
	TagHash      string
	CampaignHash string
	Label        []byte // sealed
	Days         int
	CreatedAt    time.Time
}

// PutArchiveRule stores a rule, replacing the tenant's rule with the same criteria.
func (db *DB) PutArchiveRule(ctx context.Context, r *ArchiveRule, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM archive_rules WHERE tenant_id = $1 AND direction = $2 AND tag_hash = $3 AND campaign_hash = $4", r.TenantID, r.Direction, r.TagHash, r.CampaignHash); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO archive_rules (id, tenant_id, direction, tag_hash, campaign_hash, label, days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			r.ID, r.TenantID, r.Direction, r.TagHash, r.CampaignHash, r.Label, r.Days, ms(r.CreatedAt)); err != nil {
			return err
		}
		return appendOptional(ctx, tx, audit)
	})
}

// DeleteArchiveRule removes a rule; ErrNotFound if the tenant has no such rule.
func (db *DB) DeleteArchiveRule(ctx context.Context, tenantID, id string, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM archive_rules WHERE tenant_id = $1 AND id = $2", tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return appendOptional(ctx, tx, audit)
	})
}

// ArchiveRules lists a tenant's rules.
func (db *DB) ArchiveRules(ctx context.Context, tenantID string) ([]*ArchiveRule, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, tenant_id, direction, tag_hash, campaign_hash, label, days, created_at FROM archive_rules WHERE tenant_id = $1 ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ArchiveRule
	for rows.Next() {
		var r ArchiveRule
		var at int64
		if err := rows.Scan(&r.ID, &r.TenantID, &r.Direction, &r.TagHash, &r.CampaignHash, &r.Label, &r.Days, &at); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMS(at)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// ArchiveHold is a legal hold: entries matching all its criteria are never purged.
type ArchiveHold struct {
	ID          string
	TenantID    string
	CreatedAt   time.Time
	CreatedBy   string
	ReleasedAt  time.Time
	Name        []byte // sealed
	Since       time.Time
	Until       time.Time
	AddressHash []byte
	Query       []byte // sealed
}

// InsertArchiveHold stores a hold.
func (db *DB) InsertArchiveHold(ctx context.Context, h *ArchiveHold, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "INSERT INTO archive_holds (id, tenant_id, created_at, created_by, name, since, until, address_hash, query) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			h.ID, h.TenantID, ms(h.CreatedAt), h.CreatedBy, h.Name, nullMS(h.Since), nullMS(h.Until), h.AddressHash, h.Query); err != nil {
			return err
		}
		return appendOptional(ctx, tx, audit)
	})
}

// ReleaseArchiveHold ends a hold; ErrNotFound if the tenant has no such active hold.
func (db *DB) ReleaseArchiveHold(ctx context.Context, tenantID, id string, at time.Time, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE archive_holds SET released_at = $1 WHERE tenant_id = $2 AND id = $3 AND released_at IS NULL", ms(at), tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return appendOptional(ctx, tx, audit)
	})
}

// ArchiveHolds lists a tenant's holds, active ones only unless all is set.
func (db *DB) ArchiveHolds(ctx context.Context, tenantID string, all bool) ([]*ArchiveHold, error) {
	q := "SELECT id, tenant_id, created_at, created_by, released_at, name, since, until, address_hash, query FROM archive_holds WHERE tenant_id = $1"
	if !all {
		q += " AND released_at IS NULL"
	}
	rows, err := db.sql.QueryContext(ctx, q+" ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ArchiveHold
	for rows.Next() {
		var h ArchiveHold
		var at int64
		var rel, since, until sql.NullInt64
		if err := rows.Scan(&h.ID, &h.TenantID, &at, &h.CreatedBy, &rel, &h.Name, &since, &until, &h.AddressHash, &h.Query); err != nil {
			return nil, err
		}
		h.CreatedAt, h.ReleasedAt, h.Since, h.Until = fromMS(at), fromNullMS(rel), fromNullMS(since), fromNullMS(until)
		out = append(out, &h)
	}
	return out, rows.Err()
}

// ArchiveTenants lists the tenants that have archive entries: what a purge run visits.
func (db *DB) ArchiveTenants(ctx context.Context) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT DISTINCT tenant_id FROM archive_entries ORDER BY tenant_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func appendOptional(ctx context.Context, tx *Tx, e *AuditEntry) error {
	if e == nil {
		return nil
	}
	return tx.AppendAudit(ctx, e)
}

// ActiveArchiveHoldIDs lists the ids of a tenant's active holds inside a write, in
// the order ArchiveHolds lists them: a purge compares it with what it started from.
func (tx *Tx) ActiveArchiveHoldIDs(ctx context.Context, tenantID string) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT id FROM archive_holds WHERE tenant_id = $1 AND released_at IS NULL ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
