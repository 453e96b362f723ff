package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// InsertArchiveChunk stores piece seq (1, 2, …) of an entry's sealed content.
func (tx *Tx) InsertArchiveChunk(ctx context.Context, entryID string, seq int, data []byte) error {
	_, err := tx.exec(ctx, "INSERT INTO archive_chunks (entry_id, seq, data) VALUES ($1, $2, $3)", entryID, seq, data)
	return err
}

// ArchiveChunks calls fn with each sealed piece of an entry's content after the first
// (ArchiveEntry.Content), in order, holding one piece at a time.
func (db *DB) ArchiveChunks(ctx context.Context, entryID string, fn func(sealed []byte) error) error {
	return db.sealedPieces(ctx, "SELECT data FROM archive_chunks WHERE entry_id = $1 ORDER BY seq", entryID, fn)
}

// PendingArchiveEntries lists up to limit entries waiting for their index job, oldest
// first, with their sealed values; entries of skipTenants are left out.
func (db *DB) PendingArchiveEntries(ctx context.Context, limit int, skipTenants ...string) ([]*ArchiveEntry, error) {
	q := "SELECT " + archiveCols + " FROM archive_entries WHERE indexed_at IS NULL AND purged_at IS NULL"
	args := []any{limit}
	if len(skipTenants) > 0 {
		ph := make([]string, len(skipTenants))
		for i, t := range skipTenants {
			args = append(args, t)
			ph[i] = fmt.Sprintf("$%d", i+2)
		}
		q += " AND tenant_id NOT IN (" + strings.Join(ph, ", ") + ")"
	}
	rows, err := db.sql.QueryContext(ctx, q+" ORDER BY at, id LIMIT $1", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ArchiveEntry
	for rows.Next() {
		e, err := scanArchive(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// NewestPendingArchiveAt is the time of the newest entry waiting for its index job
// (zero when none waits): the job paces itself while it grows.
func (db *DB) NewestPendingArchiveAt(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	err := db.sql.QueryRowContext(ctx, "SELECT MAX(at) FROM archive_entries WHERE indexed_at IS NULL").Scan(&at)
	return fromNullMS(at), err
}

// IndexedEntry is what the index job found in one archive entry.
type IndexedEntry struct {
	ID    string
	Meta  []byte   // sealed description
	Terms [][]byte // blind-index terms
}

// FinishArchiveIndex writes each entry's description and index terms and marks it
// indexed, if it still waits (another process may have indexed it, or a purge
// shredded it); it returns how many were written. The terms of all of them go in
// together, in as few statements as possible.
func (tx *Tx) FinishArchiveIndex(ctx context.Context, entries []IndexedEntry, at time.Time) (int, error) {
	var rows [][2]any // term, entry id
	n := 0
	for _, e := range entries {
		res, err := tx.exec(ctx, "UPDATE archive_entries SET meta = $1, indexed_at = $2 WHERE id = $3 AND indexed_at IS NULL AND purged_at IS NULL", e.Meta, ms(at), e.ID)
		if err != nil {
			return 0, err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue
		}
		n++
		for _, t := range e.Terms {
			rows = append(rows, [2]any{t, e.ID})
		}
	}
	return n, tx.insertTermRows(ctx, rows)
}

// MessagesNotArchived lists a tenant's messages that have no archive entry: with the
// journal on, none should; tests of each accepting face check it.
func (db *DB) MessagesNotArchived(ctx context.Context, tenantID string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id FROM messages WHERE tenant_id = $1 AND id NOT IN (SELECT message_id FROM archive_entries WHERE tenant_id = $1) ORDER BY id", tenantID)
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
