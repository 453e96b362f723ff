package store

import (
	"context"
	"time"
)

// TenantCounts is what the instance's operators see of a tenant: counts only, never
// an address, a subject or a body.
type TenantCounts struct {
	ID, Name   string
	CreatedAt  time.Time
	QueueDepth int64 // deliveries still owed (due, retrying or held)
	Messages   int64 // messages accepted since the cutoff
	Domains    int64
	People     int64
}

// InstanceCounts lists every tenant but the one named except (the operators' own
// scope) with its counts, messages counted from since.
func (db *DB) InstanceCounts(ctx context.Context, except string, since time.Time) ([]*TenantCounts, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT t.id, t.name, t.created_at,
    (SELECT COUNT(*) FROM deliveries d WHERE d.tenant_id = t.id),
    (SELECT COUNT(*) FROM messages m WHERE m.tenant_id = t.id AND m.created_at >= $1),
    (SELECT COUNT(*) FROM domains n WHERE n.tenant_id = t.id),
    (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id)
FROM tenants t WHERE t.name <> $2 ORDER BY t.created_at, t.id`, ms(since), except)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*TenantCounts
	for rows.Next() {
		var c TenantCounts
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &created, &c.QueueDepth, &c.Messages, &c.Domains, &c.People); err != nil {
			return nil, err
		}
		c.CreatedAt = time.UnixMilli(created)
		out = append(out, &c)
	}
	return out, rows.Err()
}
