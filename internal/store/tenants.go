package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Tenant is an organisation. Its data key is stored wrapped by a master key; a shredded
// tenant has no key and its sealed data can never be read again.
type Tenant struct {
	ID          string
	Name        string
	CreatedAt   time.Time
	KeyMasterID string
	KeyWrapped  []byte
	Shredded    bool
}

const tenantCols = "id, name, created_at, key_master_id, key_wrapped, key_destroyed_at"

func scanTenant(row interface{ Scan(...any) error }) (*Tenant, error) {
	var t Tenant
	var created int64
	var destroyed sql.NullInt64
	if err := row.Scan(&t.ID, &t.Name, &created, &t.KeyMasterID, &t.KeyWrapped, &destroyed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	t.Shredded = destroyed.Valid
	return &t, nil
}

// CreateTenant inserts a tenant.
func (db *DB) CreateTenant(ctx context.Context, t *Tenant) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO tenants (id, name, created_at, key_master_id, key_wrapped) VALUES ($1, $2, $3, $4, $5)",
			t.ID, t.Name, ms(t.CreatedAt), t.KeyMasterID, t.KeyWrapped)
		return conflict(err)
	})
}

// Tenant loads one tenant by id or by name.
func (db *DB) Tenant(ctx context.Context, idOrName string) (*Tenant, error) {
	return scanTenant(db.sql.QueryRowContext(ctx, "SELECT "+tenantCols+" FROM tenants WHERE id = $1 OR name = $1", idOrName))
}

// Tenants lists all tenants.
func (db *DB) Tenants(ctx context.Context) ([]*Tenant, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+tenantCols+" FROM tenants ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RewrapTenantKeys replaces wrapped tenant keys in one transaction: all or none.
func (db *DB) RewrapTenantKeys(ctx context.Context, rewrap func(t *Tenant) (masterID string, wrapped []byte, err error)) (int, error) {
	tenants, err := db.Tenants(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		for _, t := range tenants {
			if t.Shredded {
				continue
			}
			id, w, err := rewrap(t)
			if err != nil {
				return err
			}
			if _, err := tx.exec(ctx, "UPDATE tenants SET key_master_id = $1, key_wrapped = $2 WHERE id = $3 AND key_destroyed_at IS NULL", id, w, t.ID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ShredTenantKey destroys a tenant's data key: everything sealed under it is gone for good.
func (db *DB) ShredTenantKey(ctx context.Context, tenantID string, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE tenants SET key_wrapped = NULL, key_destroyed_at = $1 WHERE id = $2 AND key_destroyed_at IS NULL", ms(now), tenantID)
		return oneRow(res, err)
	})
}

// ErrConflict is returned when a unique value already exists.
var ErrConflict = errors.New("already exists")

func conflict(err error) error {
	if err == nil {
		return nil
	}
	s := strings.ToLower(err.Error())
	if strings.Contains(s, "unique") || strings.Contains(s, "duplicate key") {
		return ErrConflict
	}
	return err
}

func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
