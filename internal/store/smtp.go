package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// SMTPCredential is a tenant's username and password for SMTP submission. Only a hash
// of the password is stored.
type SMTPCredential struct {
	ID, TenantID, Name, Username string
	Hash                         []byte
	Scopes                       []string
	Sandbox                      bool
	CreatedAt                    time.Time
	ExpiresAt                    time.Time // zero: never
	RevokedAt                    time.Time // zero: live
}

const smtpCredCols = "id, tenant_id, name, username, hash, scopes, sandbox, created_at, expires_at, revoked_at" // #nosec G101 -- column names, not a credential

func scanSMTPCredential(row interface{ Scan(...any) error }) (*SMTPCredential, error) {
	var c SMTPCredential
	var scopes string
	var sandbox int
	var created int64
	var exp, rev sql.NullInt64
	if err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.Username, &c.Hash, &scopes, &sandbox, &created, &exp, &rev); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if scopes != "" {
		c.Scopes = strings.Split(scopes, " ")
	}
	c.Sandbox, c.CreatedAt, c.ExpiresAt, c.RevokedAt = sandbox == 1, fromMS(created), fromNullMS(exp), fromNullMS(rev)
	return &c, nil
}

// CreateSMTPCredential stores a credential.
func (db *DB) CreateSMTPCredential(ctx context.Context, c *SMTPCredential) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO smtp_credentials ("+smtpCredCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
			c.ID, c.TenantID, c.Name, c.Username, c.Hash, strings.Join(c.Scopes, " "), b2i(c.Sandbox), ms(c.CreatedAt), nullMS(c.ExpiresAt))
		return conflict(err)
	})
}

// SMTPCredentialByUsername finds a credential by its username; the caller compares the
// password's hash in constant time.
func (db *DB) SMTPCredentialByUsername(ctx context.Context, username string) (*SMTPCredential, error) {
	return scanSMTPCredential(db.sql.QueryRowContext(ctx, "SELECT "+smtpCredCols+" FROM smtp_credentials WHERE username = $1", username))
}

// SMTPCredentials lists a tenant's credentials (hashes included; callers must not show them).
func (db *DB) SMTPCredentials(ctx context.Context, tenantID string) ([]*SMTPCredential, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+smtpCredCols+" FROM smtp_credentials WHERE tenant_id = $1 ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*SMTPCredential
	for rows.Next() {
		c, err := scanSMTPCredential(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeSMTPCredential revokes a credential of a tenant (tenantID "" matches any
// tenant: CLI use).
func (db *DB) RevokeSMTPCredential(ctx context.Context, tenantID, id string, at time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE smtp_credentials SET revoked_at = $1 WHERE id = $2 AND ($3 = '' OR tenant_id = $3) AND revoked_at IS NULL", ms(at), id, tenantID)
		return oneRow(res, err)
	})
}

// SMTPAuthLocked reports whether any of keys (hashes naming a client address or a
// username) is locked out at now.
func (db *DB) SMTPAuthLocked(ctx context.Context, now time.Time, keys ...[]byte) (bool, error) {
	for _, k := range keys {
		var n int
		err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM smtp_auth_failures WHERE key = $1 AND locked_until > $2", k, ms(now)).Scan(&n)
		if err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// SMTPAuthFailed counts one failed attempt against each key. Failures older than window
// start a fresh count; the failure that reaches max locks the key until now+lockout.
// Each key is one conditional upsert, so concurrent attempts in several processes are
// all counted and none reads a count and writes it back.
func (db *DB) SMTPAuthFailed(ctx context.Context, now time.Time, window time.Duration, max int, lockout time.Duration, keys ...[]byte) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		for _, k := range keys {
			_, err := tx.exec(ctx, `INSERT INTO smtp_auth_failures (key, failures, window_start, locked_until)
VALUES ($1, 1, $2, CASE WHEN 1 >= CAST($4 AS BIGINT) THEN CAST($5 AS BIGINT) ELSE 0 END)
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN smtp_auth_failures.window_start < $3 THEN 1 ELSE smtp_auth_failures.failures + 1 END,
  window_start = CASE WHEN smtp_auth_failures.window_start < $3 THEN $2 ELSE smtp_auth_failures.window_start END,
  locked_until = CASE WHEN (CASE WHEN smtp_auth_failures.window_start < $3 THEN 1 ELSE smtp_auth_failures.failures + 1 END) >= CAST($4 AS BIGINT)
    THEN CAST($5 AS BIGINT) ELSE smtp_auth_failures.locked_until END`,
				k, ms(now), ms(now.Add(-window)), max, ms(now.Add(lockout)))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// RelayProof is one way a tenant's own mail servers prove a relayed message is theirs.
type RelayProof struct {
	ID, TenantID, Domain string
	Kind                 string // "dkim" (Value: selector) or "cert" (Value: hex SHA-256 of the DER certificate)
	Value                string
	CreatedAt            time.Time
}

// AddRelayProof stores a proof.
func (db *DB) AddRelayProof(ctx context.Context, p *RelayProof) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO smtp_relay_proofs (id, tenant_id, domain, kind, value, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
			p.ID, p.TenantID, p.Domain, p.Kind, p.Value, ms(p.CreatedAt))
		return conflict(err)
	})
}

// DeleteRelayProof removes a proof of a tenant.
func (db *DB) DeleteRelayProof(ctx context.Context, tenantID, id string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM smtp_relay_proofs WHERE id = $1 AND tenant_id = $2", id, tenantID)
		return oneRow(res, err)
	})
}

// RelayProofs lists proofs: a tenant's (domain "") or, with tenantID "", every
// tenant's for one domain.
func (db *DB) RelayProofs(ctx context.Context, tenantID, domain string) ([]*RelayProof, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, tenant_id, domain, kind, value, created_at FROM smtp_relay_proofs WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR domain = $2) ORDER BY created_at, id", tenantID, domain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*RelayProof
	for rows.Next() {
		var p RelayProof
		var at int64
		if err := rows.Scan(&p.ID, &p.TenantID, &p.Domain, &p.Kind, &p.Value, &at); err != nil {
			return nil, err
		}
		p.CreatedAt = fromMS(at)
		out = append(out, &p)
	}
	return out, rows.Err()
}
