package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// RecipientKey is a recipient's OpenPGP key or S/MIME certificate, registered by a
// tenant or found in a Web Key Directory. Address and Data are sealed by the caller;
// AddressHash is the tenant's keyed hash of the address, for lookups.
type RecipientKey struct {
	ID, TenantID string
	Kind         string // "pgp" or "smime"
	AddressHash  []byte
	Address      []byte
	Data         []byte
	Source       string // "api" or "wkd"
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

const recipientKeyCols = "id, tenant_id, kind, address_hash, address, key_data, source, expires_at, created_at"

func scanRecipientKey(row interface{ Scan(...any) error }) (*RecipientKey, error) {
	var k RecipientKey
	var exp sql.NullInt64
	var created int64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Kind, &k.AddressHash, &k.Address, &k.Data, &k.Source, &exp, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	k.ExpiresAt, k.CreatedAt = fromNullMS(exp), fromMS(created)
	return &k, nil
}

// PutRecipientKey stores a key, replacing the tenant's key of that kind for that
// address: a recipient has one current key per kind. It returns the stored row's id.
func (db *DB) PutRecipientKey(ctx context.Context, k *RecipientKey) (string, error) {
	var id string
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		return tx.queryRow(ctx, "INSERT INTO recipient_keys ("+recipientKeyCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"+
			" ON CONFLICT (tenant_id, kind, address_hash) DO UPDATE SET address = excluded.address, key_data = excluded.key_data,"+
			" source = excluded.source, expires_at = excluded.expires_at, created_at = excluded.created_at RETURNING id",
			k.ID, k.TenantID, k.Kind, k.AddressHash, k.Address, k.Data, k.Source, nullMS(k.ExpiresAt), ms(k.CreatedAt)).Scan(&id)
	})
	return id, err
}

// RecipientKey loads one of a tenant's recipient keys by id.
func (db *DB) RecipientKey(ctx context.Context, tenantID, id string) (*RecipientKey, error) {
	return scanRecipientKey(db.sql.QueryRowContext(ctx, "SELECT "+recipientKeyCols+" FROM recipient_keys WHERE tenant_id = $1 AND id = $2", tenantID, id))
}

// FindRecipientKey loads the tenant's key of kind for an address hash.
func (db *DB) FindRecipientKey(ctx context.Context, tenantID, kind string, addressHash []byte) (*RecipientKey, error) {
	return scanRecipientKey(db.sql.QueryRowContext(ctx, "SELECT "+recipientKeyCols+" FROM recipient_keys WHERE tenant_id = $1 AND kind = $2 AND address_hash = $3", tenantID, kind, addressHash))
}

// RecipientKeys lists a tenant's keys after a cursor id; addressHash, when set, filters.
func (db *DB) RecipientKeys(ctx context.Context, tenantID string, addressHash []byte, after string, limit int) ([]*RecipientKey, error) {
	q := "SELECT " + recipientKeyCols + " FROM recipient_keys WHERE tenant_id = $1 AND id > $2"
	args := []any{tenantID, after}
	if addressHash != nil {
		q += " AND address_hash = $4"
		args = append(args, limit, addressHash)
	} else {
		args = append(args, limit)
	}
	rows, err := db.sql.QueryContext(ctx, q+" ORDER BY id LIMIT $3", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*RecipientKey
	for rows.Next() {
		k, err := scanRecipientKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteRecipientKey removes one of a tenant's recipient keys.
func (db *DB) DeleteRecipientKey(ctx context.Context, tenantID, id string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM recipient_keys WHERE tenant_id = $1 AND id = $2", tenantID, id)
		return oneRow(res, err)
	})
}

// Policy loads a tenant's sealed policy document and its version; ErrNotFound when
// the tenant has none (the default applies).
func (db *DB) Policy(ctx context.Context, tenantID string) (doc []byte, version int64, err error) {
	err = db.sql.QueryRowContext(ctx, "SELECT doc, version FROM policies WHERE tenant_id = $1", tenantID).Scan(&doc, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	return doc, version, err
}

// PutPolicy replaces a tenant's policy and returns the new version.
func (tx *Tx) PutPolicy(ctx context.Context, tenantID string, doc []byte, at time.Time) (int64, error) {
	var v int64
	err := tx.queryRow(ctx, "INSERT INTO policies (tenant_id, doc, version, updated_at) VALUES ($1, $2, 1, $3)"+
		" ON CONFLICT (tenant_id) DO UPDATE SET doc = excluded.doc, version = policies.version + 1, updated_at = excluded.updated_at RETURNING version",
		tenantID, doc, ms(at)).Scan(&v)
	return v, err
}

// CacheGet returns a cached value that has not expired at now.
func (db *DB) CacheGet(ctx context.Context, key string, now time.Time) ([]byte, bool) {
	var v []byte
	err := db.sql.QueryRowContext(ctx, "SELECT value FROM cache WHERE key = $1 AND expires_at > $2", key, ms(now)).Scan(&v)
	return v, err == nil
}

// CachePut stores a value until expires.
func (db *DB) CachePut(ctx context.Context, key string, value []byte, expires time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO cache (key, value, expires_at) VALUES ($1, $2, $3)"+
			" ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at", key, value, ms(expires))
		return err
	})
}

// ReleaseQuarantine lets a quarantined message's deliveries run now.
func (db *DB) ReleaseQuarantine(ctx context.Context, tenantID, messageID string, now time.Time, fn func(context.Context, *Tx) error) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE messages SET quarantined = 0 WHERE tenant_id = $1 AND id = $2 AND quarantined = 1", tenantID, messageID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE deliveries SET held = 0, next_attempt_at = $1 WHERE message_id = $2", ms(now), messageID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE recipients SET status = 'queued', updated_at = $1 WHERE message_id = $2", ms(now), messageID); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// DeleteQuarantined ends a quarantined message without delivery: its jobs retire as
// "deleted" and its sealed content is purged.
func (db *DB) DeleteQuarantined(ctx context.Context, tenantID, messageID string, now time.Time, fn func(context.Context, *Tx) error) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE messages SET quarantined = 0, content = NULL WHERE tenant_id = $1 AND id = $2 AND quarantined = 1", tenantID, messageID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if err := tx.purgeChunks(ctx, messageID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO delivery_history (id, recipient_id, message_id, tenant_id, domain, created_at, attempts, outcome, finished_at, last_error)"+
			" SELECT id, recipient_id, message_id, tenant_id, domain, created_at, attempts, 'deleted', $1, '' FROM deliveries WHERE message_id = $2", ms(now), messageID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM deliveries WHERE message_id = $1", messageID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE recipients SET status = 'deleted', updated_at = $1 WHERE message_id = $2", ms(now), messageID); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// SigningKey is a tenant's own key for signing what it encrypts; Data is sealed.
type SigningKey struct {
	TenantID, Kind, Fingerprint string
	Data                        []byte
	CreatedAt                   time.Time
}

// PutSigningKey stores or replaces the tenant's signing key of a kind.
func (db *DB) PutSigningKey(ctx context.Context, k *SigningKey) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO signing_keys (tenant_id, kind, key_data, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5)"+
			" ON CONFLICT (tenant_id, kind) DO UPDATE SET key_data = excluded.key_data, fingerprint = excluded.fingerprint, created_at = excluded.created_at",
			k.TenantID, k.Kind, k.Data, k.Fingerprint, ms(k.CreatedAt))
		return err
	})
}

// SigningKeys lists a tenant's signing keys.
func (db *DB) SigningKeys(ctx context.Context, tenantID string) ([]*SigningKey, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT tenant_id, kind, key_data, fingerprint, created_at FROM signing_keys WHERE tenant_id = $1 ORDER BY kind", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*SigningKey
	for rows.Next() {
		var k SigningKey
		var c int64
		if err := rows.Scan(&k.TenantID, &k.Kind, &k.Data, &k.Fingerprint, &c); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMS(c)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// DeleteSigningKey removes the tenant's signing key of a kind.
func (db *DB) DeleteSigningKey(ctx context.Context, tenantID, kind string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM signing_keys WHERE tenant_id = $1 AND kind = $2", tenantID, kind)
		return oneRow(res, err)
	})
}
