package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// SunsetDays returns a tenant's sunset policy: contacts with no human engagement for
// this many days are suppressed for marketing (0: no policy).
func (db *DB) SunsetDays(ctx context.Context, tenantID string) (int, error) {
	var days int
	err := db.queryRow(ctx, "SELECT sunset_days FROM marketing_settings WHERE tenant_id = $1", tenantID).Scan(&days)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return days, err
}

// PutSunsetDays sets a tenant's sunset policy.
func (tx *Tx) PutSunsetDays(ctx context.Context, tenantID string, days int, at time.Time) error {
	_, err := tx.exec(ctx, "INSERT INTO marketing_settings (tenant_id, sunset_days, updated_at) VALUES ($1, $2, $3)"+
		" ON CONFLICT (tenant_id) DO UPDATE SET sunset_days = excluded.sunset_days, updated_at = excluded.updated_at", tenantID, days, ms(at))
	return err
}

// SunsetPolicy is one tenant's sunset setting.
type SunsetPolicy struct {
	TenantID string
	Days     int
}

// SunsetPolicies lists the tenants with a sunset policy.
func (db *DB) SunsetPolicies(ctx context.Context) ([]SunsetPolicy, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT tenant_id, sunset_days FROM marketing_settings WHERE sunset_days > 0 ORDER BY tenant_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SunsetPolicy
	for rows.Next() {
		var p SunsetPolicy
		if err := rows.Scan(&p.TenantID, &p.Days); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SunsetCandidates returns, in id order after afterID, up to limit of a tenant's
// contacts not yet suppressed for marketing that were sent a marketing message before
// cutoff and have no human open or click on any marketing message since cutoff.
// Proxy and machine events are not engagement. The database does the matching; only
// the page comes back.
func (db *DB) SunsetCandidates(ctx context.Context, tenantID string, cutoff time.Time, afterID string, limit int) ([]*Contact, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.tenant_id = $1 AND c.id > $2"+
		" AND EXISTS (SELECT 1 FROM marketing_messages mm JOIN messages m ON m.id = mm.message_id"+
		" WHERE mm.contact_id = c.id AND mm.tenant_id = c.tenant_id AND m.created_at < $3)"+
		" AND NOT EXISTS (SELECT 1 FROM marketing_messages mm JOIN events e ON e.message_id = mm.message_id"+
		" WHERE mm.contact_id = c.id AND mm.tenant_id = c.tenant_id AND e.type IN ('opened', 'clicked') AND e.class = 'human' AND e.at >= $3)"+
		" AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email_hash = c.email_hash AND s.scope = 'marketing')"+
		" ORDER BY c.id LIMIT $4", tenantID, afterID, ms(cutoff), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
