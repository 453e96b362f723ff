package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"
)

// Consent is one consent or authorisation record. Detail (address, how obtained,
// notes) is sealed by the caller; Purposes and Fields are ",a,b," lists of names.
type Consent struct {
	ID, TenantID, ContactID string
	EmailHash               []byte
	Kind                    string
	Purposes, Fields        string
	Detail                  []byte
	EvidenceHash            string
	Remuneration            bool
	ObtainedAt              time.Time
	ExpiresAt               time.Time // zero: no date
	ExpiryEvent             string
	ExpiredAt               time.Time
	RevokedAt               time.Time
	RevokedVia              string
	ContactDeletedAt        time.Time
	RetainUntil             time.Time
	CreatedAt               time.Time
}

const consentCols = "id, tenant_id, contact_id, email_hash, kind, purposes, fields, detail, evidence_hash, remuneration, obtained_at, expires_at, expiry_event, expired_at, revoked_at, revoked_via, contact_deleted_at, retain_until, created_at"

func scanConsent(row interface{ Scan(...any) error }) (*Consent, error) {
	var c Consent
	var rem int
	var obtained, created int64
	var expires, expired, revoked, deleted, retain sql.NullInt64
	if err := row.Scan(&c.ID, &c.TenantID, &c.ContactID, &c.EmailHash, &c.Kind, &c.Purposes, &c.Fields, &c.Detail, &c.EvidenceHash, &rem,
		&obtained, &expires, &c.ExpiryEvent, &expired, &revoked, &c.RevokedVia, &deleted, &retain, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	c.Remuneration, c.ObtainedAt, c.CreatedAt = rem == 1, fromMS(obtained), fromMS(created)
	c.ExpiresAt, c.ExpiredAt, c.RevokedAt = fromNullMS(expires), fromNullMS(expired), fromNullMS(revoked)
	c.ContactDeletedAt, c.RetainUntil = fromNullMS(deleted), fromNullMS(retain)
	return &c, nil
}

// InsertConsent stores a new consent record.
func (tx *Tx) InsertConsent(ctx context.Context, c *Consent) error {
	_, err := tx.exec(ctx, "INSERT INTO consents ("+consentCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
		c.ID, c.TenantID, c.ContactID, c.EmailHash, c.Kind, c.Purposes, c.Fields, c.Detail, c.EvidenceHash, b2i(c.Remuneration),
		ms(c.ObtainedAt), nullMS(c.ExpiresAt), c.ExpiryEvent, nullMS(c.ExpiredAt), nullMS(c.RevokedAt), c.RevokedVia, nullMS(c.ContactDeletedAt), nullMS(c.RetainUntil), ms(c.CreatedAt))
	return err
}

// Consent loads one of a tenant's consent records.
func (db *DB) Consent(ctx context.Context, tenantID, id string) (*Consent, error) {
	return scanConsent(db.queryRow(ctx, "SELECT "+consentCols+" FROM consents WHERE id = $1 AND tenant_id = $2", id, tenantID))
}

// Consents lists a contact's consent records (contactID "" = all of the tenant's),
// oldest first.
func (db *DB) Consents(ctx context.Context, tenantID, contactID string) ([]*Consent, error) {
	// Two queries, not "($2 = '' OR contact_id = $2)": that form keeps the planner from
	// the contact index, and delivery asks this for every marketing message it claims.
	q, args := "SELECT "+consentCols+" FROM consents WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 10000", []any{tenantID}
	if contactID != "" {
		// By the contact index alone, the tenant checked and the order made here: given
		// tenant_id too, SQLite prefers the (tenant_id, created_at) index and reads
		// every record of the tenant.
		q, args = "SELECT "+consentCols+" FROM consents WHERE contact_id = $1", []any{contactID}
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		if c.TenantID == tenantID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, rows.Err()
}

// RevokeConsent marks a record revoked, once; ErrNotFound when it is not the tenant's
// or already revoked.
func (tx *Tx) RevokeConsent(ctx context.Context, tenantID, id string, at time.Time, via string) error {
	res, err := tx.exec(ctx, "UPDATE consents SET revoked_at = $1, revoked_via = $2 WHERE id = $3 AND tenant_id = $4 AND revoked_at IS NULL", ms(at), via, id, tenantID)
	return oneRow(res, err)
}

// ExpireConsent marks a live record expired, once.
func (tx *Tx) ExpireConsent(ctx context.Context, tenantID, id string, at time.Time) error {
	res, err := tx.exec(ctx, "UPDATE consents SET expired_at = $1 WHERE id = $2 AND tenant_id = $3 AND expired_at IS NULL AND revoked_at IS NULL", ms(at), id, tenantID)
	return oneRow(res, err)
}

// LiveConsentsByEvent lists a contact's live records that end with the named event.
func (db *DB) LiveConsentsByEvent(ctx context.Context, tenantID, contactID, event string) ([]*Consent, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+consentCols+" FROM consents WHERE tenant_id = $1 AND contact_id = $2 AND expiry_event = $3 AND expired_at IS NULL AND revoked_at IS NULL",
		tenantID, contactID, event)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DueConsents lists live records whose expiry date has passed and that are not yet
// marked expired, across tenants, up to limit.
func (db *DB) DueConsents(ctx context.Context, now time.Time, limit int) ([]*Consent, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+consentCols+" FROM consents WHERE expires_at <= $1 AND expired_at IS NULL AND revoked_at IS NULL ORDER BY expires_at LIMIT $2", ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PurgeConsents deletes records whose retention has ended; it returns how many.
func (tx *Tx) PurgeConsents(ctx context.Context, now time.Time) (int64, error) {
	res, err := tx.exec(ctx, "DELETE FROM consents WHERE retain_until IS NOT NULL AND retain_until <= $1", ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Suppression is one suppressed address in one scope. Email is sealed by the caller.
type Suppression struct {
	TenantID  string
	EmailHash []byte
	Scope     string
	Reason    string
	Email     []byte
	CreatedAt time.Time
}

// PutSuppression adds an entry; an existing one for the address and scope stays as it
// was (the first reason is the one that counts). It reports whether it was new.
func (tx *Tx) PutSuppression(ctx context.Context, s *Suppression) (bool, error) {
	res, err := tx.exec(ctx, "INSERT INTO suppressions (tenant_id, email_hash, scope, reason, email, created_at) VALUES ($1, $2, $3, $4, $5, $6)"+
		" ON CONFLICT (tenant_id, email_hash, scope) DO NOTHING", s.TenantID, s.EmailHash, s.Scope, s.Reason, s.Email, ms(s.CreatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteSuppression removes an entry.
func (tx *Tx) DeleteSuppression(ctx context.Context, tenantID string, h []byte, scope string) error {
	res, err := tx.exec(ctx, "DELETE FROM suppressions WHERE tenant_id = $1 AND email_hash = $2 AND scope = $3", tenantID, h, scope)
	return oneRow(res, err)
}

// Suppressed reports the reason an address is suppressed in a scope, "" if it is not.
func (db *DB) Suppressed(ctx context.Context, tenantID string, h []byte, scope string) (string, error) {
	_, reason, err := db.SuppressedIn(ctx, tenantID, h, scope)
	return reason, err
}

// SuppressedIn reports the first of scopes, in the order given, in which the address
// with hash h is suppressed, and why ("", "" if in none): one query for every scope,
// where a send's checks asked once a scope.
func (db *DB) SuppressedIn(ctx context.Context, tenantID string, h []byte, scopes ...string) (scope, reason string, err error) {
	args := []any{tenantID, h}
	ph := make([]string, len(scopes))
	for i, sc := range scopes {
		args = append(args, sc)
		ph[i] = param(len(args))
	}
	// #nosec G202 -- only placeholders are added; every value is bound
	rows, err := db.sql.QueryContext(ctx, "SELECT scope, reason FROM suppressions WHERE tenant_id = $1 AND email_hash = $2 AND scope IN ("+strings.Join(ph, ", ")+")", args...)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	found := map[string]string{}
	for rows.Next() {
		var sc, r string
		if err := rows.Scan(&sc, &r); err != nil {
			return "", "", err
		}
		found[sc] = r
	}
	if err := rows.Err(); err != nil {
		return "", "", err
	}
	for _, sc := range scopes {
		if r, ok := found[sc]; ok {
			return sc, r, nil
		}
	}
	return "", "", nil
}

// Suppressions pages through a tenant's entries (scope "" = every scope), newest first,
// before the cursor (a creation time in ms, 0 = from the newest).
func (db *DB) Suppressions(ctx context.Context, tenantID, scope string, before int64, limit int) ([]*Suppression, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT tenant_id, email_hash, scope, reason, email, created_at FROM suppressions WHERE tenant_id = $1 AND ($2 = '' OR scope = $2) AND created_at < $3 ORDER BY created_at DESC LIMIT $4",
		tenantID, scope, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Suppression
	for rows.Next() {
		var s Suppression
		var at int64
		if err := rows.Scan(&s.TenantID, &s.EmailHash, &s.Scope, &s.Reason, &s.Email, &at); err != nil {
			return nil, err
		}
		s.CreatedAt = fromMS(at)
		out = append(out, &s)
	}
	return out, rows.Err()
}
