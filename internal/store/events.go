package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EventFilter selects events of one tenant. AfterID is the cursor: events with a larger
// id, oldest first, so a client can poll for new events without missing any.
type EventFilter struct {
	TenantID    string
	MessageID   string
	AddressHash []byte
	Types       []string
	Since       time.Time
	Until       time.Time
	AfterID     int64
	Limit       int
}

// Events lists events matching f.
func (db *DB) Events(ctx context.Context, f EventFilter) ([]*Event, error) {
	where := []string{"tenant_id = $1", "id > $2"}
	args := []any{f.TenantID, f.AfterID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.MessageID != "" {
		add("message_id = ?", f.MessageID)
	}
	if f.AddressHash != nil {
		add("recipient_id IN (SELECT id FROM recipients WHERE tenant_id = $1 AND address_hash = ?)", f.AddressHash)
	}
	if len(f.Types) > 0 {
		var ph []string
		for _, t := range f.Types {
			args = append(args, t)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "type IN ("+strings.Join(ph, ", ")+")")
	}
	if !f.Since.IsZero() {
		add("at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", ms(f.Until))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	// #nosec G201 -- only fixed conditions and numbered placeholders are formatted in
	q := fmt.Sprintf("SELECT id, tenant_id, message_id, recipient_id, type, at, sandbox, data FROM events WHERE %s ORDER BY id LIMIT $%d", strings.Join(where, " AND "), len(args))
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		var e Event
		var at int64
		var sandbox int
		if err := rows.Scan(&e.ID, &e.TenantID, &e.MessageID, &e.RecipientID, &e.Type, &at, &sandbox, &e.Data); err != nil {
			return nil, err
		}
		e.At, e.Sandbox = fromMS(at), sandbox == 1
		out = append(out, &e)
	}
	return out, rows.Err()
}
