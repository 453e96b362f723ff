package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"
)

// PortalMessage is a recipient's copy handed to the secure portal.
type PortalMessage struct {
	ID, TenantID, MessageID, RecipientID string
	TokenHash                            []byte
	CreatedAt, ExpiresAt                 time.Time
	RevokedAt                            time.Time // zero unless revoked
	Content                              []byte    // sealed under ContentKey
	ContentKey                           []byte    // sealed under the tenant key; nil once destroyed
	PassphraseHash                       []byte    // nil: access by emailed code
	CodeHash                             []byte
	CodeExpiresAt, CodeSentAt            time.Time
	CodeSends                            int // codes sent since CodeWindowStart
	CodeWindowStart                      time.Time
	Failures                             int
	LockedUntil                          time.Time
	DestroyedAt                          time.Time
	DestroyedWhy                         string    // expired | revoked | undelivered
	NotifiedAt                           time.Time // zero while the notice has not been delivered
	Views                                int
	LastViewedAt                         time.Time
}

// Readable says whether the copy can still be opened at now.
func (p *PortalMessage) Readable(now time.Time) bool {
	return p.ContentKey != nil && p.DestroyedAt.IsZero() && p.RevokedAt.IsZero() && now.Before(p.ExpiresAt)
}

const portalCols = "id, tenant_id, message_id, recipient_id, token_hash, created_at, expires_at, revoked_at, content, content_key, passphrase_hash," +
	" code_hash, code_expires_at, code_sent_at, code_sends, code_window_start, failures, locked_until, destroyed_at, destroyed_why, views, last_viewed_at, notified_at"

func scanPortal(row interface{ Scan(...any) error }) (*PortalMessage, error) {
	var p PortalMessage
	var created, expires int64
	var revoked, codeExp, codeSent, codeWindow, locked, destroyed, viewed, notified sql.NullInt64
	if err := row.Scan(&p.ID, &p.TenantID, &p.MessageID, &p.RecipientID, &p.TokenHash, &created, &expires, &revoked, &p.Content, &p.ContentKey, &p.PassphraseHash,
		&p.CodeHash, &codeExp, &codeSent, &p.CodeSends, &codeWindow, &p.Failures, &locked, &destroyed, &p.DestroyedWhy, &p.Views, &viewed, &notified); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt, p.RevokedAt = fromMS(created), fromMS(expires), fromNullMS(revoked)
	p.CodeExpiresAt, p.CodeSentAt, p.LockedUntil = fromNullMS(codeExp), fromNullMS(codeSent), fromNullMS(locked)
	p.CodeWindowStart = fromNullMS(codeWindow)
	p.DestroyedAt, p.LastViewedAt, p.NotifiedAt = fromNullMS(destroyed), fromNullMS(viewed), fromNullMS(notified)
	return &p, nil
}

// HandOffPortal commits a portal copy before its notice is sent, with the recipient's
// security state (which holds the link's token), so the link works the moment the
// notice arrives and a later attempt sends the same link. It is conditional on the
// delivery job still existing — the row is locked, so a revocation either sees this
// copy or has cancelled the job first (ErrNotFound) — and keeps a copy already
// recorded for the recipient. It returns the copy as stored.
func (tx *Tx) HandOffPortal(ctx context.Context, jobID int64, p *PortalMessage, security []byte) (*PortalMessage, error) {
	res, err := tx.exec(ctx, "UPDATE deliveries SET claimed_by = claimed_by WHERE id = $1", jobID)
	if err := oneRow(res, err); err != nil {
		return nil, err
	}
	if _, err := tx.exec(ctx, "UPDATE recipients SET security = $1 WHERE id = $2", security, p.RecipientID); err != nil {
		return nil, err
	}
	if _, err := tx.exec(ctx, "INSERT INTO portal_messages (id, tenant_id, message_id, recipient_id, token_hash, created_at, expires_at, content, content_key, passphrase_hash)"+
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (recipient_id) DO NOTHING",
		p.ID, p.TenantID, p.MessageID, p.RecipientID, p.TokenHash, ms(p.CreatedAt), ms(p.ExpiresAt), p.Content, p.ContentKey, p.PassphraseHash); err != nil {
		return nil, err
	}
	return scanPortal(tx.queryRow(ctx, "SELECT "+portalCols+" FROM portal_messages WHERE recipient_id = $1", p.RecipientID))
}

// PortalNotified records that a copy's notice was delivered.
func (tx *Tx) PortalNotified(ctx context.Context, portalID string, at time.Time) error {
	res, err := tx.exec(ctx, "UPDATE portal_messages SET notified_at = COALESCE(notified_at, $1) WHERE id = $2", ms(at), portalID)
	return oneRow(res, err)
}

// DropUnsentPortal destroys a recipient's copy whose notice was never delivered, when
// its delivery has ended another way (bounced, expired, or sent by another method):
// nobody was given its link. A copy someone has used (a code asked for, a view, a
// session) is left to its expiry — an attempt whose outcome was lost did deliver it.
func (tx *Tx) DropUnsentPortal(ctx context.Context, recipientID string, now time.Time) error {
	_, err := tx.exec(ctx, "UPDATE portal_messages SET content = NULL, content_key = NULL, code_hash = NULL, destroyed_at = $1, destroyed_why = 'undelivered'"+
		" WHERE recipient_id = $2 AND notified_at IS NULL AND destroyed_at IS NULL AND code_sent_at IS NULL AND views = 0"+
		" AND NOT EXISTS (SELECT 1 FROM portal_sessions WHERE portal_id = portal_messages.id)", ms(now), recipientID)
	return err
}

// PortalByToken finds a portal copy by its link token's hash.
func (db *DB) PortalByToken(ctx context.Context, tokenHash []byte) (*PortalMessage, error) {
	return scanPortal(db.sql.QueryRowContext(ctx, "SELECT "+portalCols+" FROM portal_messages WHERE token_hash = $1", tokenHash))
}

// PortalMessage loads a portal copy by its id.
func (db *DB) PortalMessage(ctx context.Context, id string) (*PortalMessage, error) {
	return scanPortal(db.sql.QueryRowContext(ctx, "SELECT "+portalCols+" FROM portal_messages WHERE id = $1", id))
}

// PortalMessages lists a tenant's portal copies of a message.
func (db *DB) PortalMessages(ctx context.Context, tenantID, messageID string) ([]*PortalMessage, error) {
	return db.portalList(ctx, "SELECT "+portalCols+" FROM portal_messages WHERE tenant_id = $1 AND message_id = $2 ORDER BY id", tenantID, messageID)
}

// ExpiredPortals lists copies past their expiry whose keys still exist.
func (db *DB) ExpiredPortals(ctx context.Context, now time.Time, limit int) ([]*PortalMessage, error) {
	return db.portalList(ctx, "SELECT "+portalCols+" FROM portal_messages WHERE destroyed_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2", ms(now), limit)
}

// PortalMessages lists a message's portal copies inside a write, seeing every copy
// committed before the write's previous statement.
func (tx *Tx) PortalMessages(ctx context.Context, tenantID, messageID string) ([]*PortalMessage, error) {
	rows, err := tx.query(ctx, "SELECT "+portalCols+" FROM portal_messages WHERE tenant_id = $1 AND message_id = $2 ORDER BY id", tenantID, messageID)
	if err != nil {
		return nil, err
	}
	return scanPortals(rows)
}

func (db *DB) portalList(ctx context.Context, q string, args ...any) ([]*PortalMessage, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanPortals(rows)
}

func scanPortals(rows *sql.Rows) ([]*PortalMessage, error) {
	defer rows.Close()
	var out []*PortalMessage
	for rows.Next() {
		p, err := scanPortal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PortalSession loads a session by its cookie's hash.
func (db *DB) PortalSession(ctx context.Context, idHash []byte) (*PortalSession, error) {
	var s PortalSession
	var c, l, e int64
	err := db.sql.QueryRowContext(ctx, "SELECT id_hash, portal_id, created_at, last_seen_at, expires_at FROM portal_sessions WHERE id_hash = $1", idHash).
		Scan(&s.IDHash, &s.PortalID, &c, &l, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	s.CreatedAt, s.LastSeen, s.ExpiresAt = fromMS(c), fromMS(l), fromMS(e)
	return &s, err
}

// TouchPortalSession records activity on a session (its idle clock restarts).
func (db *DB) TouchPortalSession(ctx context.Context, idHash []byte, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "UPDATE portal_sessions SET last_seen_at = $1 WHERE id_hash = $2", ms(now), idHash)
		return err
	})
}

// EndPortalSession deletes a session.
func (db *DB) EndPortalSession(ctx context.Context, idHash []byte) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "DELETE FROM portal_sessions WHERE id_hash = $1", idHash)
		return err
	})
}

// CountPortalView records one view of a copy.
func (tx *Tx) CountPortalView(ctx context.Context, portalID string, at time.Time) error {
	_, err := tx.exec(ctx, "UPDATE portal_messages SET views = views + 1, last_viewed_at = $1 WHERE id = $2", ms(at), portalID)
	return err
}

// DestroyPortal destroys a copy's key and content and ends its sessions; why is
// "expired" or "revoked". It reports false when the copy was already destroyed. Once
// no delivery and no readable copy needs it, the message's own sealed content is
// purged too.
func (tx *Tx) DestroyPortal(ctx context.Context, p *PortalMessage, why string, now time.Time) (bool, error) {
	revoked := any(nil)
	if why == "revoked" {
		revoked = ms(now)
	}
	res, err := tx.exec(ctx, "UPDATE portal_messages SET content = NULL, content_key = NULL, code_hash = NULL, destroyed_at = $1, destroyed_why = $2,"+
		" revoked_at = COALESCE($3, revoked_at) WHERE id = $4 AND destroyed_at IS NULL", ms(now), why, revoked, p.ID)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.exec(ctx, "DELETE FROM portal_sessions WHERE portal_id = $1", p.ID); err != nil {
		return false, err
	}
	return true, tx.purgeContentIfDone(ctx, p.MessageID)
}

func (tx *Tx) purgeContentIfDone(ctx context.Context, messageID string) error {
	_, err := tx.exec(ctx, "UPDATE messages SET content = NULL WHERE id = $1"+
		" AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = $1)"+
		" AND NOT EXISTS (SELECT 1 FROM portal_messages WHERE message_id = $1 AND destroyed_at IS NULL)", messageID)
	if err != nil {
		return err
	}
	return tx.purgeChunks(ctx, messageID)
}

// purgeChunks deletes the rest of a message's content once its first piece is gone.
func (tx *Tx) purgeChunks(ctx context.Context, messageID string) error {
	_, err := tx.exec(ctx, "DELETE FROM message_chunks WHERE message_id = $1"+
		" AND EXISTS (SELECT 1 FROM messages WHERE id = $1 AND content IS NULL)", messageID)
	return err
}

// CancelDeliveries retires a message's pending deliveries to the given recipients
// (all of them when recipientIDs is empty) with outcome "revoked", and returns the
// recipient ids it cancelled. Each job is cancelled by the DELETE that removes it, so
// of two revocations at once (or a revocation and a finishing delivery) exactly one
// retires it: the other finds no row and reports nothing cancelled.
func (tx *Tx) CancelDeliveries(ctx context.Context, messageID string, recipientIDs []string, now time.Time) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT recipient_id FROM deliveries WHERE message_id = $1 ORDER BY recipient_id", messageID)
	if err != nil {
		return nil, err
	}
	var want []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		if len(recipientIDs) == 0 || slices.Contains(recipientIDs, id) {
			want = append(want, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ids []string
	for _, id := range want {
		var j Job
		var created int64
		err := tx.queryRow(ctx, "DELETE FROM deliveries WHERE recipient_id = $1 RETURNING id, tenant_id, domain, created_at, attempts", id).
			Scan(&j.ID, &j.TenantID, &j.Domain, &created, &j.Attempts)
		if errors.Is(err, sql.ErrNoRows) {
			continue // retired meanwhile
		}
		if err != nil {
			return nil, err
		}
		if _, err := tx.exec(ctx, "INSERT INTO delivery_history (id, recipient_id, message_id, tenant_id, domain, created_at, attempts, outcome, finished_at, last_error)"+
			" VALUES ($1, $2, $3, $4, $5, $6, $7, 'revoked', $8, '')", j.ID, id, messageID, j.TenantID, j.Domain, created, j.Attempts, ms(now)); err != nil {
			return nil, err
		}
		if _, err := tx.exec(ctx, "UPDATE recipients SET status = 'revoked', updated_at = $1 WHERE id = $2", ms(now), id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		return ids, tx.purgeContentIfDone(ctx, messageID)
	}
	return ids, nil
}

// RecipientStatus reads a recipient's status inside a write (a revocation tells a
// recipient revoked by a concurrent request from one delivered).
func (tx *Tx) RecipientStatus(ctx context.Context, id string) (string, error) {
	var st string
	err := tx.queryRow(ctx, "SELECT status FROM recipients WHERE id = $1", id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return st, err
}

// SetPortalExpiry changes when a readable copy expires.
func (tx *Tx) SetPortalExpiry(ctx context.Context, portalID string, at time.Time) error {
	res, err := tx.exec(ctx, "UPDATE portal_messages SET expires_at = $1 WHERE id = $2 AND destroyed_at IS NULL", ms(at), portalID)
	return oneRow(res, err)
}

// PortalReply links a reply (an ordinary message) to the portal copy it answers.
type PortalReply struct {
	ID, PortalID, MessageID string
	CreatedAt               time.Time
}

// AddPortalReply records a reply.
func (tx *Tx) AddPortalReply(ctx context.Context, r *PortalReply) error {
	_, err := tx.exec(ctx, "INSERT INTO portal_replies (id, portal_id, reply_message_id, created_at) VALUES ($1, $2, $3, $4)", r.ID, r.PortalID, r.MessageID, ms(r.CreatedAt))
	return err
}

// PortalReplies lists a copy's replies, oldest first.
func (db *DB) PortalReplies(ctx context.Context, portalID string) ([]*PortalReply, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, portal_id, reply_message_id, created_at FROM portal_replies WHERE portal_id = $1 ORDER BY created_at, id", portalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*PortalReply
	for rows.Next() {
		var r PortalReply
		var c int64
		if err := rows.Scan(&r.ID, &r.PortalID, &r.MessageID, &c); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMS(c)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// PortalSettings loads a tenant's portal settings document; ErrNotFound for none.
func (db *DB) PortalSettings(ctx context.Context, tenantID string) ([]byte, error) {
	var doc string
	err := db.sql.QueryRowContext(ctx, "SELECT doc FROM portal_settings WHERE tenant_id = $1", tenantID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return []byte(doc), err
}

// PutPortalSettings replaces a tenant's portal settings.
func (tx *Tx) PutPortalSettings(ctx context.Context, tenantID string, doc []byte, at time.Time) error {
	_, err := tx.exec(ctx, "INSERT INTO portal_settings (tenant_id, doc, updated_at) VALUES ($1, $2, $3)"+
		" ON CONFLICT (tenant_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at", tenantID, string(doc), ms(at))
	return err
}
