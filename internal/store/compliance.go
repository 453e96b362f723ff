package store

import (
	"context"
	"time"
)

// Disclosure is one copy of a message with DLP findings sent to one address.
type Disclosure struct {
	Message   *Message // without content
	Recipient *Recipient
}

// Disclosures lists a tenant's live messages with DLP findings sent to the address
// with this keyed hash, accepted in [from, to), oldest first.
func (db *DB) Disclosures(ctx context.Context, tenantID string, addressHash []byte, from, to time.Time) ([]Disclosure, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT m.id, m.tenant_id, m.created_at, m.from_domain, m.sandbox, m.campaign, m.tags, m.size, m.envelope, NULL, m.dlp, m.quarantined, "+
		"r.id, r.kind, r.domain, r.status, r.updated_at, r.method, r.security FROM recipients r JOIN messages m ON m.id = r.message_id "+
		"WHERE r.tenant_id = $1 AND r.address_hash = $2 AND m.created_at >= $3 AND m.created_at < $4 AND m.sandbox = 0 AND m.dlp <> '[]' AND m.dlp <> 'null' "+
		"ORDER BY m.created_at, m.id", tenantID, addressHash, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Disclosure
	for rows.Next() {
		var r Recipient
		var upd int64
		m, err := scanMessage(scanPrefix{rows: rows, extra: []any{&r.ID, &r.Kind, &r.Domain, &r.Status, &upd, &r.Method, &r.Security}})
		if err != nil {
			return nil, err
		}
		r.MessageID, r.TenantID, r.UpdatedAt = m.ID, m.TenantID, fromMS(upd)
		out = append(out, Disclosure{Message: m, Recipient: &r})
	}
	return out, rows.Err()
}

// scanPrefix lets scanMessage read the first columns of a wider row.
type scanPrefix struct {
	rows  interface{ Scan(...any) error }
	extra []any
}

func (s scanPrefix) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }

// DLPMessage is what a DLP summary needs of one message.
type DLPMessage struct {
	DLP         []byte
	Quarantined bool
}

// DLPMessages lists the findings of a tenant's live messages accepted in [from, to)
// that had any.
func (db *DB) DLPMessages(ctx context.Context, tenantID string, from, to time.Time) ([]DLPMessage, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT dlp, quarantined FROM messages WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 AND sandbox = 0 AND dlp <> '[]' AND dlp <> 'null'",
		tenantID, ms(from), ms(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DLPMessage
	for rows.Next() {
		var d string
		var q int
		if err := rows.Scan(&d, &q); err != nil {
			return nil, err
		}
		out = append(out, DLPMessage{DLP: []byte(d), Quarantined: q == 1})
	}
	return out, rows.Err()
}

// EventCounts counts a tenant's live events of the given types in [from, to).
func (db *DB) EventCounts(ctx context.Context, tenantID string, types []string, from, to time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	for _, typ := range types {
		var n int64
		if err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2 AND at >= $3 AND at < $4 AND sandbox = 0",
			tenantID, typ, ms(from), ms(to)).Scan(&n); err != nil {
			return nil, err
		}
		out[typ] = n
	}
	return out, nil
}
