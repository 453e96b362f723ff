package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// SignatureKey is a key that signs requests for an OAuth client.
type SignatureKey struct {
	ID, ClientID, TenantID, Alg string
	PublicKey                   []byte // ed25519
	Secret                      []byte // hmac-sha256, sealed
	CreatedAt, RevokedAt        time.Time
}

// AddSignatureKey stores a key.
func (db *DB) AddSignatureKey(ctx context.Context, k *SignatureKey) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO access_signature_keys (id, client_id, tenant_id, alg, public_key, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			k.ID, k.ClientID, k.TenantID, k.Alg, k.PublicKey, k.Secret, ms(k.CreatedAt))
		return conflict(err)
	})
}

// SignatureKey finds a key by id, of any tenant.
func (db *DB) SignatureKey(ctx context.Context, id string) (*SignatureKey, error) {
	var k SignatureKey
	var created int64
	var rev sql.NullInt64
	err := db.sql.QueryRowContext(ctx, "SELECT id, client_id, tenant_id, alg, public_key, secret, created_at, revoked_at FROM access_signature_keys WHERE id = $1", id).
		Scan(&k.ID, &k.ClientID, &k.TenantID, &k.Alg, &k.PublicKey, &k.Secret, &created, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = fromMS(created), fromNullMS(rev)
	return &k, nil
}

// UseNonce records a signature's nonce; ErrConflict means it was seen before. Nonces
// past their window are dropped in the same write.
func (db *DB) UseNonce(ctx context.Context, keyID, nonce string, expires, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM access_nonces WHERE expires_at < $1", ms(now)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO access_nonces (key_id, nonce, expires_at) VALUES ($1, $2, $3)", keyID, nonce, ms(expires))
		return conflict(err)
	})
}

// AccessSession is a session opened by a signed request.
type AccessSession struct {
	ID, ClientID, TenantID, KeyID   string
	CreatedAt, ExpiresAt, RevokedAt time.Time
}

const accessSessionCols = "id, client_id, tenant_id, key_id, created_at, expires_at, revoked_at"

func scanAccessSession(row interface{ Scan(...any) error }) (*AccessSession, error) {
	var s AccessSession
	var created, exp int64
	var rev sql.NullInt64
	if err := row.Scan(&s.ID, &s.ClientID, &s.TenantID, &s.KeyID, &created, &exp, &rev); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMS(created), fromMS(exp), fromNullMS(rev)
	return &s, nil
}

// CreateAccessSession stores a session.
func (db *DB) CreateAccessSession(ctx context.Context, s *AccessSession) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO access_sessions ("+accessSessionCols+") VALUES ($1, $2, $3, $4, $5, $6, NULL)",
			s.ID, s.ClientID, s.TenantID, s.KeyID, ms(s.CreatedAt), ms(s.ExpiresAt))
		return conflict(err)
	})
}

// AccessSession finds a session by id, of any tenant.
func (db *DB) AccessSession(ctx context.Context, id string) (*AccessSession, error) {
	return scanAccessSession(db.sql.QueryRowContext(ctx, "SELECT "+accessSessionCols+" FROM access_sessions WHERE id = $1", id))
}

// AccessSessions lists a tenant's sessions ("" = every tenant), newest first.
func (db *DB) AccessSessions(ctx context.Context, tenantID string, limit int) ([]*AccessSession, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+accessSessionCols+" FROM access_sessions WHERE ($1 = '' OR tenant_id = $1) ORDER BY created_at DESC, id LIMIT $2", tenantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AccessSession
	for rows.Next() {
		s, err := scanAccessSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// RevokeAccessSessions revokes one session (id) or every live session of a client
// (clientID), of a tenant ("" = any tenant: CLI use). It returns how many it revoked;
// ErrNotFound when none matched.
func (db *DB) RevokeAccessSessions(ctx context.Context, tenantID, id, clientID string, at time.Time) (int64, error) {
	var n int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE access_sessions SET revoked_at = $1 WHERE ($2 = '' OR tenant_id = $2) AND (id = $3 OR client_id = $4) AND revoked_at IS NULL",
			ms(at), tenantID, id, clientID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		if err == nil && n == 0 {
			return ErrNotFound
		}
		return err
	})
	return n, err
}
