package store

import (
	"context"
	"time"
)

// RecentMessages lists a tenant's newest messages, newest first (content not loaded).
func (db *DB) RecentMessages(ctx context.Context, tenantID string, limit int) ([]*Message, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, tenant_id, created_at, from_domain, sandbox, campaign, tags, size, envelope, NULL, dlp, quarantined FROM messages WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2", tenantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// EventTypeCounts counts a tenant's events by type in [since, until), sandbox excluded.
func (db *DB) EventTypeCounts(ctx context.Context, tenantID string, since, until time.Time) (map[string]int64, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT type, COUNT(*) FROM events WHERE tenant_id = $1 AND at >= $2 AND at < $3 AND sandbox = 0 GROUP BY type", tenantID, ms(since), ms(until))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}
