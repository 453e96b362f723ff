package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// APIKey is a credential. Only a hash of the secret is stored.
type APIKey struct {
	ID, TenantID, Name string
	Hash               []byte
	Scopes             []string
	Sandbox            bool
	CreatedAt          time.Time
	ExpiresAt          time.Time // zero: never
	RevokedAt          time.Time // zero: live
	Access             CredentialAccess
}

const apiKeyCols = "id, tenant_id, name, hash, scopes, sandbox, created_at, expires_at, revoked_at, allowed_networks, rate_per_second, rate_burst" // #nosec G101 -- column names, not a credential

func scanAPIKey(row interface{ Scan(...any) error }) (*APIKey, error) {
	var k APIKey
	var scopes string
	var sandbox int
	var created int64
	var exp, rev sql.NullInt64
	var nets string
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Hash, &scopes, &sandbox, &created, &exp, &rev, &nets, &k.Access.RatePerSecond, &k.Access.RateBurst); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, " ")
	}
	k.Access.Networks = splitNetworks(nets)
	k.Sandbox, k.CreatedAt, k.ExpiresAt, k.RevokedAt = sandbox == 1, fromMS(created), fromNullMS(exp), fromNullMS(rev)
	return &k, nil
}

// CreateAPIKey stores a key.
func (db *DB) CreateAPIKey(ctx context.Context, k *APIKey) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO api_keys ("+apiKeyCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11)",
			k.ID, k.TenantID, k.Name, k.Hash, strings.Join(k.Scopes, " "), b2i(k.Sandbox), ms(k.CreatedAt), nullMS(k.ExpiresAt),
			strings.Join(k.Access.Networks, " "), k.Access.RatePerSecond, k.Access.RateBurst)
		return conflict(err)
	})
}

// APIKeyByHash finds a key by the hash of its secret. The lookup is by an index on a
// hash of a 256-bit random secret, so it leaks nothing useful through timing; callers
// still compare the hash in constant time.
func (db *DB) APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error) {
	return scanAPIKey(db.sql.QueryRowContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE hash = $1", hash))
}

// APIKeys lists a tenant's keys (hashes included; callers must not show them).
func (db *DB) APIKeys(ctx context.Context, tenantID string) ([]*APIKey, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key of a tenant (tenantID "" matches any tenant: CLI use).
func (db *DB) RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND ($3 = '' OR tenant_id = $3) AND revoked_at IS NULL", ms(at), id, tenantID)
		return oneRow(res, err)
	})
}
