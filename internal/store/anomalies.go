package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// CredentialNetworks lists the networks a credential has used.
func (db *DB) CredentialNetworks(ctx context.Context, credentialID string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT network FROM access_networks WHERE credential_id = $1", credentialID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// AddCredentialNetwork records a network a credential used; ErrConflict if known.
func (db *DB) AddCredentialNetwork(ctx context.Context, credentialID, tenantID, network string, at time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO access_networks (credential_id, network, tenant_id, first_seen) VALUES ($1, $2, $3, $4)", credentialID, network, tenantID, ms(at))
		return conflict(err)
	})
}

// Anomaly is one raised anomaly with what must be written beside it.
type Anomaly struct {
	CredentialID, TenantID, Kind, WindowKey string
	At                                      time.Time
	Event                                   *Event
	Audit                                   *AuditEntry
}

// RaiseAnomaly records an anomaly, its event (queued to webhooks) and its audit entry in
// one transaction; ErrConflict means it was already raised for this window.
func (db *DB) RaiseAnomaly(ctx context.Context, a *Anomaly) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "INSERT INTO access_anomalies (credential_id, kind, window_key, tenant_id, at) VALUES ($1, $2, $3, $4, $5)",
			a.CredentialID, a.Kind, a.WindowKey, a.TenantID, ms(a.At)); err != nil {
			return conflict(err)
		}
		if err := tx.InsertEvents(ctx, a.Event); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, a.Audit)
	})
}

// SuspendOnAnomaly reports whether a tenant chose to suspend credentials on anomalies.
func (db *DB) SuspendOnAnomaly(ctx context.Context, tenantID string) (bool, error) {
	var v int
	err := db.sql.QueryRowContext(ctx, "SELECT suspend_on_anomaly FROM access_settings WHERE tenant_id = $1", tenantID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return v == 1, err
}

// SetSuspendOnAnomaly stores a tenant's choice.
func (db *DB) SetSuspendOnAnomaly(ctx context.Context, tenantID string, on bool) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO access_settings (tenant_id, suspend_on_anomaly) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET suspend_on_anomaly = $2", tenantID, b2i(on))
		return err
	})
}
