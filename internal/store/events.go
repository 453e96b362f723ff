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
	// TagHash and CampaignHash select the events of messages carrying that label, by
	// the keyed hash the message row keeps in place of it.
	TagHash      string
	CampaignHash string
	Types        []string
	Since        time.Time
	Until        time.Time
	AfterID      int64
	Limit        int
}

// MaxPage is the most rows one page of events or audit entries may hold.
const MaxPage = 5000

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
	if f.TagHash != "" {
		// tags is a JSON array of hex hashes: the quoted hash matches one whole element.
		add("message_id IN (SELECT id FROM messages WHERE tenant_id = $1 AND tags LIKE ?)", `%"`+f.TagHash+`"%`)
	}
	if f.CampaignHash != "" {
		add("message_id IN (SELECT id FROM messages WHERE tenant_id = $1 AND campaign = ?)", f.CampaignHash)
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
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxPage {
		// Not cut down quietly: a caller that asked for more would think it had everything.
		return nil, fmt.Errorf("page of %d: at most %d", f.Limit, MaxPage)
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
