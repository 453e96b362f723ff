package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// TrackingLink is one tracked pixel or link of one recipient's copy.
type TrackingLink struct {
	ID, TenantID, MessageID, RecipientID string
	Kind                                 string // open, click, decoy
	Target                               []byte // sealed; clicks only
	CreatedAt                            time.Time
}

// InsertTrackingLinks stores a copy's tracked links.
func (tx *Tx) InsertTrackingLinks(ctx context.Context, links []*TrackingLink) error {
	for _, l := range links {
		if _, err := tx.exec(ctx, "INSERT INTO tracking_links (id, tenant_id, message_id, recipient_id, kind, target, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			l.ID, l.TenantID, l.MessageID, l.RecipientID, l.Kind, l.Target, ms(l.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

// TrackingLink loads a link by id.
func (db *DB) TrackingLink(ctx context.Context, id string) (*TrackingLink, error) {
	var l TrackingLink
	var created int64
	err := db.queryRow(ctx, "SELECT id, tenant_id, message_id, recipient_id, kind, target, created_at FROM tracking_links WHERE id = $1", id).
		Scan(&l.ID, &l.TenantID, &l.MessageID, &l.RecipientID, &l.Kind, &l.Target, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	l.CreatedAt = fromMS(created)
	return &l, err
}

// TrackingHit is what a hit on a link tells the classifier about its recipient.
type TrackingHit struct {
	DeliveredAt  time.Time // zero until delivered
	Sandbox      bool
	RecentClicks int // the recipient's clicks within the window
}

// HitTrackingLink reports, for a hit on a link at now, the recipient's delivery time and
// how many clicks the recipient made since now-window (a scanner follows every link at
// once). It only reads: concurrent hits on one copy never wait for each other.
func (tx *Tx) HitTrackingLink(ctx context.Context, l *TrackingLink, now time.Time, window time.Duration) (*TrackingHit, error) {
	var h TrackingHit
	var status string
	var upd int64
	err := tx.queryRow(ctx, "SELECT r.status, r.updated_at, m.sandbox FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.id = $1", l.RecipientID).
		Scan(&status, &upd, &h.Sandbox)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if status == "delivered" {
		h.DeliveredAt = fromMS(upd)
	}
	err = tx.queryRow(ctx, "SELECT COUNT(*) FROM events WHERE message_id = $1 AND recipient_id = $2 AND type = 'clicked' AND at >= $3",
		l.MessageID, l.RecipientID, ms(now.Add(-window))).Scan(&h.RecentClicks)
	return &h, err
}
