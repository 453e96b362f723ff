package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// OAuthClient is an OAuth 2.0 client of the client credentials grant. Only a hash of
// its secret is stored.
type OAuthClient struct {
	ID, TenantID, Name string
	SecretHash         []byte // nil: private_key_jwt only
	PublicJWK          string // "" unless the client signs assertions
	Scopes             []string
	Sandbox            bool
	TokenFormat        string // "opaque" or "jwt"
	TokenTTL           time.Duration
	CreatedAt          time.Time
	ExpiresAt          time.Time // zero: never
	RevokedAt          time.Time // zero: live
	Access             CredentialAccess
}

const oauthClientCols = "id, tenant_id, name, secret_hash, public_jwk, scopes, sandbox, token_format, token_ttl, created_at, expires_at, revoked_at, allowed_networks, rate_per_second, rate_burst" // #nosec G101 -- column names, not a credential

func scanOAuthClient(row interface{ Scan(...any) error }) (*OAuthClient, error) {
	var c OAuthClient
	var scopes string
	var sandbox int
	var ttl, created int64
	var exp, rev sql.NullInt64
	var nets string
	if err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.SecretHash, &c.PublicJWK, &scopes, &sandbox, &c.TokenFormat, &ttl, &created, &exp, &rev, &nets, &c.Access.RatePerSecond, &c.Access.RateBurst); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if scopes != "" {
		c.Scopes = strings.Split(scopes, " ")
	}
	c.Access.Networks = splitNetworks(nets)
	c.Sandbox, c.TokenTTL = sandbox == 1, time.Duration(ttl)*time.Second
	c.CreatedAt, c.ExpiresAt, c.RevokedAt = fromMS(created), fromNullMS(exp), fromNullMS(rev)
	return &c, nil
}

// CreateOAuthClient stores a client.
func (db *DB) CreateOAuthClient(ctx context.Context, c *OAuthClient) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO oauth_clients ("+oauthClientCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, $14)",
			c.ID, c.TenantID, c.Name, c.SecretHash, c.PublicJWK, strings.Join(c.Scopes, " "), b2i(c.Sandbox), c.TokenFormat,
			int64(c.TokenTTL/time.Second), ms(c.CreatedAt), nullMS(c.ExpiresAt),
			strings.Join(c.Access.Networks, " "), c.Access.RatePerSecond, c.Access.RateBurst)
		return conflict(err)
	})
}

// OAuthClient finds a client by id, of any tenant (the token endpoint knows no tenant
// before the client authenticates).
func (db *DB) OAuthClient(ctx context.Context, id string) (*OAuthClient, error) {
	return scanOAuthClient(db.sql.QueryRowContext(ctx, "SELECT "+oauthClientCols+" FROM oauth_clients WHERE id = $1", id))
}

// OAuthClients lists a tenant's clients.
func (db *DB) OAuthClients(ctx context.Context, tenantID string) ([]*OAuthClient, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+oauthClientCols+" FROM oauth_clients WHERE ($1 = '' OR tenant_id = $1) ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OAuthClient
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeOAuthClient revokes a client and, in the same transaction, every token it
// holds (tenantID "" matches any tenant: CLI use).
func (db *DB) RevokeOAuthClient(ctx context.Context, tenantID, id string, at time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE oauth_clients SET revoked_at = $1 WHERE id = $2 AND ($3 = '' OR tenant_id = $3) AND revoked_at IS NULL", ms(at), id, tenantID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		_, err = tx.exec(ctx, "UPDATE oauth_tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL", ms(at), id)
		return err
	})
}

// OAuthToken is an issued access token; only its hash is stored.
type OAuthToken struct {
	Hash                   []byte
	ID, ClientID, TenantID string
	Scopes                 []string
	Sandbox                bool
	CreatedAt, ExpiresAt   time.Time
	RevokedAt              time.Time        // zero: live
	ClientAccess           CredentialAccess // read with the token: its client's current rules
}

const oauthTokenCols = "hash, id, client_id, tenant_id, scopes, sandbox, created_at, expires_at, revoked_at" // #nosec G101 -- column names, not a credential

// CreateOAuthToken stores an issued token and drops tokens that expired a day ago.
func (db *DB) CreateOAuthToken(ctx context.Context, t *OAuthToken) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM oauth_tokens WHERE expires_at < $1", ms(t.CreatedAt.Add(-24*time.Hour))); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO oauth_tokens ("+oauthTokenCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
			t.Hash, t.ID, t.ClientID, t.TenantID, strings.Join(t.Scopes, " "), b2i(t.Sandbox), ms(t.CreatedAt), ms(t.ExpiresAt))
		return conflict(err)
	})
}

// OAuthTokenByHash finds a token by the hash of its value; callers compare the hash in
// constant time.
func (db *DB) OAuthTokenByHash(ctx context.Context, hash []byte) (*OAuthToken, error) {
	var t OAuthToken
	var scopes string
	var sandbox int
	var created, exp int64
	var rev sql.NullInt64
	var nets string
	// The client's rules are read with the token, in the same query, so a token obeys
	// its client's networks and limit without a second read per request.
	err := db.sql.QueryRowContext(ctx, "SELECT t.hash, t.id, t.client_id, t.tenant_id, t.scopes, t.sandbox, t.created_at, t.expires_at, t.revoked_at, "+
		"COALESCE(c.allowed_networks, ''), COALESCE(c.rate_per_second, 0), COALESCE(c.rate_burst, 0) "+
		"FROM oauth_tokens t LEFT JOIN oauth_clients c ON c.id = t.client_id WHERE t.hash = $1", hash).
		Scan(&t.Hash, &t.ID, &t.ClientID, &t.TenantID, &scopes, &sandbox, &created, &exp, &rev, &nets, &t.ClientAccess.RatePerSecond, &t.ClientAccess.RateBurst)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if scopes != "" {
		t.Scopes = strings.Split(scopes, " ")
	}
	t.ClientAccess.Networks = splitNetworks(nets)
	t.Sandbox, t.CreatedAt, t.ExpiresAt, t.RevokedAt = sandbox == 1, fromMS(created), fromMS(exp), fromNullMS(rev)
	return &t, nil
}

// RevokeOAuthToken revokes one token of a client. Revoking an unknown or already
// revoked token is not an error (RFC 7009 2.2).
func (db *DB) RevokeOAuthToken(ctx context.Context, clientID string, hash []byte, at time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "UPDATE oauth_tokens SET revoked_at = $1 WHERE hash = $2 AND client_id = $3 AND revoked_at IS NULL", ms(at), hash, clientID)
		return err
	})
}

// UseAssertionID records a client assertion's jti; ErrConflict means it was used before.
// Ids of assertions that have expired are dropped in the same write.
func (db *DB) UseAssertionID(ctx context.Context, clientID, jti string, expires, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM oauth_assertions WHERE expires_at < $1", ms(now)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO oauth_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)", clientID, jti, ms(expires))
		return conflict(err)
	})
}

// OAuthSigningKey is the server's wrapped key for JWT access tokens.
type OAuthSigningKey struct {
	ID, MasterID string
	Wrapped      []byte
	CreatedAt    time.Time
}

// OAuthSigningKeys lists the signing keys, oldest first.
func (db *DB) OAuthSigningKeys(ctx context.Context) ([]*OAuthSigningKey, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, master_id, wrapped, created_at FROM oauth_signing_keys ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OAuthSigningKey
	for rows.Next() {
		var k OAuthSigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.MasterID, &k.Wrapped, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMS(created)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// AddOAuthSigningKey stores a signing key.
func (db *DB) AddOAuthSigningKey(ctx context.Context, k *OAuthSigningKey) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO oauth_signing_keys (id, master_id, wrapped, created_at) VALUES ($1, $2, $3, $4)", k.ID, k.MasterID, k.Wrapped, ms(k.CreatedAt))
		return conflict(err)
	})
}
