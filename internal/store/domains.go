package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Domain is a sender domain claimed by a tenant; only verified domains may send.
type Domain struct {
	ID          string
	TenantID    string
	Name        string
	Verified    bool
	VerifyToken string
	CreatedAt   time.Time
	VerifiedAt  time.Time
}

const domainCols = "id, tenant_id, name, verified, verify_token, created_at, verified_at"

func scanDomain(row interface{ Scan(...any) error }) (*Domain, error) {
	var d Domain
	var verified int
	var created int64
	var vat sql.NullInt64
	if err := row.Scan(&d.ID, &d.TenantID, &d.Name, &verified, &d.VerifyToken, &created, &vat); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	d.Verified, d.CreatedAt, d.VerifiedAt = verified == 1, fromMS(created), fromNullMS(vat)
	return &d, nil
}

// AddDomain claims a domain for a tenant. A domain belongs to at most one tenant.
func (db *DB) AddDomain(ctx context.Context, d *Domain) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO domains ("+domainCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
			d.ID, d.TenantID, d.Name, b2i(d.Verified), d.VerifyToken, ms(d.CreatedAt), nullMS(d.VerifiedAt))
		return conflict(err)
	})
}

// Domain loads a tenant's domain by name.
func (db *DB) Domain(ctx context.Context, tenantID, name string) (*Domain, error) {
	return scanDomain(db.queryRow(ctx, "SELECT "+domainCols+" FROM domains WHERE tenant_id = $1 AND name = $2", tenantID, name))
}

// Domains lists a tenant's domains.
func (db *DB) Domains(ctx context.Context, tenantID string) ([]*Domain, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+domainCols+" FROM domains WHERE tenant_id = $1 ORDER BY name", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// MarkDomainVerified records a successful ownership check.
func (db *DB) MarkDomainVerified(ctx context.Context, tenantID, name string, at time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE domains SET verified = 1, verified_at = $1 WHERE tenant_id = $2 AND name = $3", ms(at), tenantID, name)
		return oneRow(res, err)
	})
}

// DeleteDomain removes a tenant's domain.
func (db *DB) DeleteDomain(ctx context.Context, tenantID, name string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM domains WHERE tenant_id = $1 AND name = $2", tenantID, name)
		return oneRow(res, err)
	})
}

// DKIMKey is a signing key for a sender domain; the private key is sealed.
type DKIMKey struct {
	ID, TenantID, Domain, Selector, Algorithm string
	PrivateKey                                []byte
	DNSName, DNSValue                         string
	Active                                    bool
	CreatedAt                                 time.Time
}

const dkimCols = "id, tenant_id, domain, selector, algorithm, private_key, dns_name, dns_value, active, created_at"

func scanDKIM(row interface{ Scan(...any) error }) (*DKIMKey, error) {
	var k DKIMKey
	var active int
	var created int64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, &k.DNSName, &k.DNSValue, &active, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	k.Active, k.CreatedAt = active == 1, fromMS(created)
	return &k, nil
}

// AddDKIMKey stores a key and makes it the active one for its domain.
func (db *DB) AddDKIMKey(ctx context.Context, k *DKIMKey) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "UPDATE dkim_keys SET active = 0 WHERE tenant_id = $1 AND domain = $2", k.TenantID, k.Domain); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO dkim_keys ("+dkimCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
			k.ID, k.TenantID, k.Domain, k.Selector, k.Algorithm, k.PrivateKey, k.DNSName, k.DNSValue, ms(k.CreatedAt))
		return conflict(err)
	})
}

// ActiveDKIMKey returns the key that signs a tenant's mail from a domain.
func (db *DB) ActiveDKIMKey(ctx context.Context, tenantID, domain string) (*DKIMKey, error) {
	return scanDKIM(db.sql.QueryRowContext(ctx, "SELECT "+dkimCols+" FROM dkim_keys WHERE tenant_id = $1 AND domain = $2 AND active = 1", tenantID, domain))
}

// DKIMKeys lists a tenant's keys.
func (db *DB) DKIMKeys(ctx context.Context, tenantID string) ([]*DKIMKey, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+dkimCols+" FROM dkim_keys WHERE tenant_id = $1 ORDER BY domain, created_at", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*DKIMKey
	for rows.Next() {
		k, err := scanDKIM(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
