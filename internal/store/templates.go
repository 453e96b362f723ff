package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Template is a stored message template; Content is sealed.
type Template struct {
	ID, TenantID, Name   string
	Content              []byte
	CreatedAt, UpdatedAt time.Time
}

const templateCols = "id, tenant_id, name, content, created_at, updated_at"

func scanTemplate(row interface{ Scan(...any) error }) (*Template, error) {
	var t Template
	var c, u int64
	if err := row.Scan(&t.ID, &t.TenantID, &t.Name, &t.Content, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMS(c), fromMS(u)
	return &t, nil
}

// CreateTemplate stores a template.
func (db *DB) CreateTemplate(ctx context.Context, t *Template) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO templates ("+templateCols+") VALUES ($1, $2, $3, $4, $5, $6)",
			t.ID, t.TenantID, t.Name, t.Content, ms(t.CreatedAt), ms(t.UpdatedAt))
		return conflict(err)
	})
}

// Template loads a tenant's template.
func (db *DB) Template(ctx context.Context, tenantID, id string) (*Template, error) {
	return scanTemplate(db.sql.QueryRowContext(ctx, "SELECT "+templateCols+" FROM templates WHERE tenant_id = $1 AND id = $2", tenantID, id))
}

// Templates lists a tenant's templates after a cursor id.
func (db *DB) Templates(ctx context.Context, tenantID, after string, limit int) ([]*Template, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+templateCols+" FROM templates WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", tenantID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTemplate replaces a tenant's template.
func (db *DB) UpdateTemplate(ctx context.Context, t *Template) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE templates SET name = $1, content = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
			t.Name, t.Content, ms(t.UpdatedAt), t.TenantID, t.ID)
		return oneRow(res, err)
	})
}

// DeleteTemplate removes a tenant's template.
func (db *DB) DeleteTemplate(ctx context.Context, tenantID, id string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM templates WHERE tenant_id = $1 AND id = $2", tenantID, id)
		return oneRow(res, err)
	})
}

// Idempotency is a remembered response to a request with an Idempotency-Key.
type Idempotency struct {
	RequestHash []byte
	Status      int
	Response    []byte // sealed
}

// Idempotency looks up a key inside the caller's transaction, so the check and the
// insert of the new message cannot race another request with the same key.
func (tx *Tx) Idempotency(ctx context.Context, tenantID string, keyHash []byte) (*Idempotency, error) {
	var r Idempotency
	err := tx.queryRow(ctx, "SELECT request_hash, status, response FROM idempotency WHERE tenant_id = $1 AND key_hash = $2", tenantID, keyHash).
		Scan(&r.RequestHash, &r.Status, &r.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &r, err
}

// PutIdempotency remembers a response, unless the key is already taken: then it stores
// nothing and returns the response remembered first. The insert is the check — on
// PostgreSQL it waits for a concurrent transaction holding the same key and then sees
// its row — so two requests with one key, in any processes, store one message.
func (tx *Tx) PutIdempotency(ctx context.Context, tenantID string, keyHash []byte, r *Idempotency, at time.Time) (*Idempotency, error) {
	res, err := tx.exec(ctx, "INSERT INTO idempotency (tenant_id, key_hash, request_hash, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)"+
		" ON CONFLICT (tenant_id, key_hash) DO NOTHING", tenantID, keyHash, r.RequestHash, r.Status, r.Response, ms(at))
	if err := oneRow(res, err); errors.Is(err, ErrNotFound) {
		return tx.Idempotency(ctx, tenantID, keyHash)
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}
