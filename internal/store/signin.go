package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Passkey is a WebAuthn credential a person registered as a second factor. Only the
// public half is kept; SignCount is the authenticator's counter as last seen.
type Passkey struct {
	ID, TenantID, UserID, Name string
	CredentialID, PublicKey    []byte
	AAGUID                     []byte
	SignCount                  uint32
	Transports                 []string
	Flags                      uint8 // the authenticator data flags at registration (backup eligibility)
	Attestation                string
	CreatedAt, LastUsed        time.Time
}

// #nosec G101 -- column names, not a credential
const passkeyCols = "id, tenant_id, user_id, name, credential_id, public_key, sign_count, transports, aaguid, flags, attestation, created_at, last_used_at"

func scanPasskey(row interface{ Scan(...any) error }) (*Passkey, error) {
	var p Passkey
	var count, flags, created int64
	var transports string
	var used sql.NullInt64
	if err := row.Scan(&p.ID, &p.TenantID, &p.UserID, &p.Name, &p.CredentialID, &p.PublicKey, &count, &transports, &p.AAGUID, &flags, &p.Attestation, &created, &used); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	p.SignCount, p.Flags = uint32(count), uint8(flags) // #nosec G115 -- stored from a uint32 and a uint8
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CreatedAt, p.LastUsed = fromMS(created), fromNullMS(used)
	return &p, nil
}

// InsertPasskey stores a new passkey with its audit entries; ErrConflict when the
// credential is already registered.
func (db *DB) InsertPasskey(ctx context.Context, p *Passkey, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO user_passkeys ("+passkeyCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL)",
			p.ID, p.TenantID, p.UserID, p.Name, p.CredentialID, p.PublicKey, int64(p.SignCount), strings.Join(p.Transports, ","), p.AAGUID, int64(p.Flags), p.Attestation, ms(p.CreatedAt))
		if err = conflict(err); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// Passkeys lists a person's passkeys, oldest first.
func (db *DB) Passkeys(ctx context.Context, userID string) ([]*Passkey, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+passkeyCols+" FROM user_passkeys WHERE user_id = $1 ORDER BY created_at, id", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePasskey removes one of a person's passkeys (ErrNotFound if it is not theirs).
func (db *DB) DeletePasskey(ctx context.Context, tenantID, userID, id string, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM user_passkeys WHERE id = $1 AND user_id = $2 AND tenant_id = $3", id, userID, tenantID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// PasskeySignedIn records a passkey's use and promotes the session, in one write. The
// counter only moves forward (or stays at zero for authenticators without one): a
// race with another use of the same counter value finds no row and fails with
// ErrNotFound, as a regression would.
func (db *DB) PasskeySignedIn(ctx context.Context, passkeyID, userID string, count uint32, sessionID string, newHash []byte, expires, now time.Time, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE user_passkeys SET sign_count = $1, last_used_at = $2 WHERE id = $3 AND user_id = $4 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))",
			int64(count), ms(now), passkeyID, userID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE users SET failures = 0, last_sign_in = $1 WHERE id = $2", ms(now), userID); err != nil {
			return err
		}
		if err := tx.promoteSession(ctx, sessionID, newHash, expires, now); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// PutCeremony keeps a WebAuthn ceremony's state for a session, replacing any earlier
// one: a session has at most one challenge outstanding.
func (db *DB) PutCeremony(ctx context.Context, sessionID, kind string, data []byte, expires time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM webauthn_ceremonies WHERE session_id = $1", sessionID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO webauthn_ceremonies (session_id, kind, data, expires_at) VALUES ($1, $2, $3, $4)", sessionID, kind, data, ms(expires))
		return err
	})
}

// TakeCeremony removes and returns a session's ceremony state if it is of kind and
// unexpired; whatever the outcome the challenge cannot be answered twice.
func (db *DB) TakeCeremony(ctx context.Context, sessionID, kind string, now time.Time) ([]byte, error) {
	var data []byte
	var got string
	var expires int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		err := tx.queryRow(ctx, "DELETE FROM webauthn_ceremonies WHERE session_id = $1 RETURNING kind, data, expires_at", sessionID).Scan(&got, &data, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if got != kind || !now.Before(fromMS(expires)) {
		return nil, ErrNotFound
	}
	return data, nil
}

// OIDCProvider is a tenant's OpenID Connect provider for single sign-on.
type OIDCProvider struct {
	TenantID, Issuer, ClientID, EmailDomain string
	ClientSecret                            []byte // sealed
	TrustAMR                                bool
	CreatedAt                               time.Time
}

const oidcCols = "tenant_id, issuer, client_id, client_secret, email_domain, trust_amr, created_at"

func scanOIDC(row interface{ Scan(...any) error }) (*OIDCProvider, error) {
	var p OIDCProvider
	var trust, created int64
	if err := row.Scan(&p.TenantID, &p.Issuer, &p.ClientID, &p.ClientSecret, &p.EmailDomain, &trust, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	p.TrustAMR, p.CreatedAt = trust == 1, fromMS(created)
	return &p, nil
}

// PutOIDCProvider sets (or replaces) a tenant's provider; ErrConflict when another
// tenant already signs in that email domain.
func (db *DB) PutOIDCProvider(ctx context.Context, p *OIDCProvider, audit ...*AuditEntry) error {
	trust := 0
	if p.TrustAMR {
		trust = 1
	}
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM oidc_providers WHERE tenant_id = $1", p.TenantID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO oidc_providers ("+oidcCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
			p.TenantID, p.Issuer, p.ClientID, p.ClientSecret, p.EmailDomain, trust, ms(p.CreatedAt))
		if err = conflict(err); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// DeleteOIDCProvider turns single sign-on off for a tenant.
func (db *DB) DeleteOIDCProvider(ctx context.Context, tenantID string, audit ...*AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM oidc_providers WHERE tenant_id = $1", tenantID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit)
	})
}

// OIDCProviderFor finds a tenant's provider.
func (db *DB) OIDCProviderFor(ctx context.Context, tenantID string) (*OIDCProvider, error) {
	return scanOIDC(db.sql.QueryRowContext(ctx, "SELECT "+oidcCols+" FROM oidc_providers WHERE tenant_id = $1", tenantID))
}

// OIDCProviderByDomain finds the provider that signs in an email domain.
func (db *DB) OIDCProviderByDomain(ctx context.Context, domain string) (*OIDCProvider, error) {
	return scanOIDC(db.sql.QueryRowContext(ctx, "SELECT "+oidcCols+" FROM oidc_providers WHERE email_domain = $1", domain))
}

// OIDCLogin is a single sign-on under way.
type OIDCLogin struct {
	Hash                             []byte
	TenantID, State, Nonce, Verifier string
	ExpiresAt                        time.Time
}

// PutOIDCLogin stores a sign-on under way.
func (db *DB) PutOIDCLogin(ctx context.Context, l *OIDCLogin, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		// Abandoned sign-ons are swept as new ones start.
		if _, err := tx.exec(ctx, "DELETE FROM oidc_logins WHERE expires_at < $1", ms(now)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO oidc_logins (hash, tenant_id, state, nonce, verifier, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
			l.Hash, l.TenantID, l.State, l.Nonce, l.Verifier, ms(l.ExpiresAt))
		return err
	})
}

// TakeOIDCLogin removes and returns the sign-on under way for a cookie's hash, if
// unexpired: a callback is answered once.
func (db *DB) TakeOIDCLogin(ctx context.Context, hash []byte, now time.Time) (*OIDCLogin, error) {
	l := &OIDCLogin{Hash: hash}
	var expires int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		err := tx.queryRow(ctx, "DELETE FROM oidc_logins WHERE hash = $1 RETURNING tenant_id, state, nonce, verifier, expires_at", hash).
			Scan(&l.TenantID, &l.State, &l.Nonce, &l.Verifier, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	l.ExpiresAt = fromMS(expires)
	if !now.Before(l.ExpiresAt) {
		return nil, ErrNotFound
	}
	return l, nil
}

// HasOIDCProviders reports whether any tenant signs in through a provider, which is
// when the sign-in page offers single sign-on.
func (db *DB) HasOIDCProviders(ctx context.Context) (bool, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM oidc_providers").Scan(&n)
	return n > 0, err
}
