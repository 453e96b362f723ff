package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Campaign is a campaign row: the scheduler's columns and the sealed rest.
type Campaign struct {
	ID, TenantID          string
	Name, Spec            []byte // sealed
	State                 string
	CreatedBy, ApprovedBy string
	SendAt                time.Time
	Throttle              int // messages per hour; 0 = no limit
	CreditAt              time.Time
	Cursor                string
	Expanded              bool
	ABDecideAt            time.Time
	ABWinner              string
	PausedReason          string
	StartedAt, FinishedAt time.Time
	CreatedAt, UpdatedAt  time.Time
}

const campaignCols = "id, tenant_id, name, spec, state, created_by, approved_by, send_at, throttle, credit_at, cursor, expanded, ab_decide_at, ab_winner, paused_reason, started_at, finished_at, created_at, updated_at"

func scanCampaign(row interface{ Scan(...any) error }) (*Campaign, error) {
	var c Campaign
	var sendAt, credit, decide, started, finished, created, updated int64
	var expanded int
	err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.Spec, &c.State, &c.CreatedBy, &c.ApprovedBy, &sendAt, &c.Throttle, &credit, &c.Cursor, &expanded,
		&decide, &c.ABWinner, &c.PausedReason, &started, &finished, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.Expanded = expanded != 0
	c.SendAt, c.CreditAt, c.ABDecideAt = fromMSOrZero(sendAt), fromMSOrZero(credit), fromMSOrZero(decide)
	c.StartedAt, c.FinishedAt = fromMSOrZero(started), fromMSOrZero(finished)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return &c, nil
}

func fromMSOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// InsertCampaign stores a new campaign.
func (tx *Tx) InsertCampaign(ctx context.Context, c *Campaign) error {
	_, err := tx.exec(ctx, "INSERT INTO campaigns ("+campaignCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
		c.ID, c.TenantID, c.Name, c.Spec, c.State, c.CreatedBy, c.ApprovedBy, msOrZero(c.SendAt), c.Throttle, msOrZero(c.CreditAt), c.Cursor, b2i(c.Expanded),
		msOrZero(c.ABDecideAt), c.ABWinner, c.PausedReason, msOrZero(c.StartedAt), msOrZero(c.FinishedAt), ms(c.CreatedAt), ms(c.UpdatedAt))
	return err
}

// UpdateCampaign writes a campaign's mutable columns if its state is still from (the
// state the caller read): a concurrent change makes it ErrConflict. The sending
// credit is written only with a change of state (start, resume): otherwise it moves
// only by TakeCampaignCredit, so one process's stale copy cannot give back credit
// another has used.
func (tx *Tx) UpdateCampaign(ctx context.Context, c *Campaign, from string) error {
	// The old state equal to the new one: no transition, the credit stays as it is.
	q := "UPDATE campaigns SET name = $1, spec = $2, state = $3, approved_by = $4, send_at = $5, throttle = $6," +
		" credit_at = CASE WHEN state = $3 THEN credit_at ELSE $7 END, cursor = $8," +
		" expanded = $9, ab_decide_at = $10, ab_winner = $11, paused_reason = $12, started_at = $13, finished_at = $14, updated_at = $15" +
		" WHERE id = $16 AND tenant_id = $17 AND state = $18"
	res, err := tx.exec(ctx, q,
		c.Name, c.Spec, c.State, c.ApprovedBy, msOrZero(c.SendAt), c.Throttle, msOrZero(c.CreditAt), c.Cursor, b2i(c.Expanded), msOrZero(c.ABDecideAt),
		c.ABWinner, c.PausedReason, msOrZero(c.StartedAt), msOrZero(c.FinishedAt), ms(c.UpdatedAt), c.ID, c.TenantID, from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrConflict
	}
	return nil
}

// TakeCampaignCredit moves a running campaign's sending credit from old to next; only
// one scheduler (of several processes) wins each step.
func (tx *Tx) TakeCampaignCredit(ctx context.Context, id string, old, next time.Time) error {
	res, err := tx.exec(ctx, "UPDATE campaigns SET credit_at = $1 WHERE id = $2 AND credit_at = $3 AND state = 'running'", ms(next), id, msOrZero(old))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrConflict
	}
	return nil
}

// Campaign loads one of a tenant's campaigns.
func (db *DB) Campaign(ctx context.Context, tenantID, id string) (*Campaign, error) {
	return scanCampaign(db.queryRow(ctx, "SELECT "+campaignCols+" FROM campaigns WHERE id = $1 AND tenant_id = $2", id, tenantID))
}

// Campaigns lists a tenant's campaigns, newest first, before a creation time (0: now).
func (db *DB) Campaigns(ctx context.Context, tenantID string, before int64, limit int) ([]*Campaign, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT "+campaignCols+" FROM campaigns WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at DESC LIMIT $3", tenantID, before, limit)
	if err != nil {
		return nil, err
	}
	return scanCampaigns(rows)
}

func scanCampaigns(rows *sql.Rows) ([]*Campaign, error) {
	defer rows.Close()
	var out []*Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DueCampaigns lists campaigns the scheduler has work for at now: scheduled ones whose
// time has come and running ones.
func (db *DB) DueCampaigns(ctx context.Context, now time.Time) ([]*Campaign, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+campaignCols+" FROM campaigns WHERE state = 'running' OR (state = 'scheduled' AND send_at <= $1) ORDER BY created_at", ms(now))
	if err != nil {
		return nil, err
	}
	return scanCampaigns(rows)
}

// CampaignRecipient is one recipient row.
type CampaignRecipient struct {
	CampaignID, ContactID, TenantID string
	Variant, Status, Reason         string
	MessageID                       string
	UpdatedAt                       time.Time
}

// AddCampaignRecipients stores a batch of the expanded audience; a contact already
// stored (two sources name it) keeps its row.
func (tx *Tx) AddCampaignRecipients(ctx context.Context, rs []*CampaignRecipient) error {
	for _, r := range rs {
		if _, err := tx.exec(ctx, "INSERT INTO campaign_recipients (campaign_id, contact_id, tenant_id, variant, status, updated_at) VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT DO NOTHING",
			r.CampaignID, r.ContactID, r.TenantID, r.Variant, ms(r.UpdatedAt)); err != nil {
			return err
		}
	}
	return nil
}

// PendingCampaignRecipients returns up to limit recipients still to send, in contact
// order; variants lists the variants that may go now.
func (db *DB) PendingCampaignRecipients(ctx context.Context, campaignID string, variants []string, limit int) ([]*CampaignRecipient, error) {
	q := "SELECT campaign_id, contact_id, tenant_id, variant, status, reason, message_id, updated_at FROM campaign_recipients WHERE campaign_id = $1 AND status = 'pending' AND variant IN ("
	args := []any{campaignID}
	for i, v := range variants {
		if i > 0 {
			q += ", "
		}
		args = append(args, v)
		q += param(len(args))
	}
	args = append(args, limit)
	q += ") ORDER BY contact_id LIMIT " + param(len(args)) // #nosec G202 -- only placeholders are added; every value is bound
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*CampaignRecipient
	for rows.Next() {
		var r CampaignRecipient
		var upd int64
		if err := rows.Scan(&r.CampaignID, &r.ContactID, &r.TenantID, &r.Variant, &r.Status, &r.Reason, &r.MessageID, &upd); err != nil {
			return nil, err
		}
		r.UpdatedAt = fromMS(upd)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// MarkCampaignRecipient moves a pending recipient to sent (with its message) or
// skipped (with a reason). ErrConflict: it was not pending — another process got it.
func (tx *Tx) MarkCampaignRecipient(ctx context.Context, campaignID, contactID, status, reason, messageID string, at time.Time) error {
	res, err := tx.exec(ctx, "UPDATE campaign_recipients SET status = $1, reason = $2, message_id = $3, updated_at = $4 WHERE campaign_id = $5 AND contact_id = $6 AND status = 'pending'",
		status, reason, messageID, ms(at), campaignID, contactID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrConflict
	}
	return nil
}

// CampaignCounts counts a campaign's recipients by status (and skip reason) and
// variant.
type CampaignCounts struct {
	ByStatus  map[string]int // pending, sent, skipped
	ByReason  map[string]int // skipped recipients by reason
	ByVariant map[string]int // sent recipients by variant
	Variants  map[string]int // every recipient by variant
}

// CountCampaignRecipients counts a campaign's recipients.
func (db *DB) CountCampaignRecipients(ctx context.Context, campaignID string) (*CampaignCounts, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT status, reason, variant, COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 GROUP BY status, reason, variant", campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c := &CampaignCounts{ByStatus: map[string]int{}, ByReason: map[string]int{}, ByVariant: map[string]int{}, Variants: map[string]int{}}
	for rows.Next() {
		var status, reason, variant string
		var n int
		if err := rows.Scan(&status, &reason, &variant, &n); err != nil {
			return nil, err
		}
		c.ByStatus[status] += n
		c.Variants[variant] += n
		if status == "skipped" {
			c.ByReason[reason] += n
		}
		if status == "sent" {
			c.ByVariant[variant] += n
		}
	}
	return c, rows.Err()
}

// CampaignEventTotals counts, for each of types, the distinct recipients of a
// campaign's messages with an event of that type at or after since. One statement
// reads them all, so the counts are of one moment: a guard comparing complaints with
// deliveries never sets complaints made after its delivered count against it.
func (db *DB) CampaignEventTotals(ctx context.Context, campaignID string, since time.Time, types ...string) (map[string]int, error) {
	args := []any{campaignID, msOrZero(since)}
	ph := make([]string, len(types))
	for i, t := range types {
		args = append(args, t)
		ph[i] = param(len(args))
	}
	return db.campaignCounts(ctx, "SELECT e.type, COUNT(DISTINCT e.recipient_id) FROM campaign_recipients cr JOIN events e ON e.message_id = cr.message_id"+
		" WHERE cr.campaign_id = $1 AND cr.message_id <> '' AND e.at >= $2 AND e.type IN ("+strings.Join(ph, ", ")+") GROUP BY e.type", args...)
}

// CampaignFirsts counts, per variant, the recipients of a campaign's messages that
// count toward a once-per-recipient report counter: "clicked" is people only (the
// tracking classifier's human class), "clicked_machine" scanners.
func (db *DB) CampaignFirsts(ctx context.Context, campaignID, counter string) (map[string]int, error) {
	return db.campaignCounts(ctx, "SELECT cr.variant, COUNT(*) FROM campaign_recipients cr JOIN recipients r ON r.message_id = cr.message_id"+
		" JOIN report_firsts f ON f.recipient_id = r.id WHERE cr.campaign_id = $1 AND cr.message_id <> '' AND f.counter = $2 GROUP BY cr.variant", campaignID, counter)
}

func (db *DB) campaignCounts(ctx context.Context, q string, args ...any) (map[string]int, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var v string
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, rows.Err()
}

// CampaignRecipientStatuses counts a campaign's delivered messages' recipients by
// delivery status (delivered, bounced, suppressed, …).
func (db *DB) CampaignRecipientStatuses(ctx context.Context, campaignID string) (map[string]int, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT r.status, COUNT(*) FROM campaign_recipients cr JOIN recipients r ON r.message_id = cr.message_id"+
		" WHERE cr.campaign_id = $1 AND cr.message_id <> '' GROUP BY r.status", campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// CampaignConversion is one conversion the tenant reported.
type CampaignConversion struct {
	ID, CampaignID, TenantID, ContactID string
	Value                               int64
	KeyHash                             []byte
	At                                  time.Time
}

// InsertCampaignConversion stores a conversion; one with an idempotency key already
// used for the campaign is ErrConflict.
func (tx *Tx) InsertCampaignConversion(ctx context.Context, c *CampaignConversion) error {
	var kh any
	if len(c.KeyHash) > 0 {
		kh = c.KeyHash
	}
	var exists int
	if kh != nil {
		if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM campaign_conversions WHERE campaign_id = $1 AND key_hash = $2", c.CampaignID, kh).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return ErrConflict
		}
	}
	_, err := tx.exec(ctx, "INSERT INTO campaign_conversions (id, campaign_id, tenant_id, contact_id, value, key_hash, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		c.ID, c.CampaignID, c.TenantID, c.ContactID, c.Value, kh, ms(c.At))
	return err
}

// CampaignConversionTotals sums a campaign's conversions.
func (db *DB) CampaignConversionTotals(ctx context.Context, campaignID string) (count int, value int64, err error) {
	err = db.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(value), 0) FROM campaign_conversions WHERE campaign_id = $1", campaignID).Scan(&count, &value)
	return
}

// MarketingMessage links a marketing message to the contact and the consent it relies
// on: what delivery re-checks when the message's job is claimed.
type MarketingMessage struct {
	MessageID, TenantID, ContactID string
	Kind, Purpose, Fields          string
}

// InsertMarketingMessage records the link, in the message's own transaction.
func (tx *Tx) InsertMarketingMessage(ctx context.Context, m *MarketingMessage) error {
	_, err := tx.exec(ctx, "INSERT INTO marketing_messages (message_id, tenant_id, contact_id, kind, purpose, fields) VALUES ($1, $2, $3, $4, $5, $6)",
		m.MessageID, m.TenantID, m.ContactID, m.Kind, m.Purpose, m.Fields)
	return err
}

// MarketingMessageOf returns the link of a message, or ErrNotFound for a message that
// is not marketing.
func (db *DB) MarketingMessageOf(ctx context.Context, messageID string) (*MarketingMessage, error) {
	var m MarketingMessage
	err := db.queryRow(ctx, "SELECT message_id, tenant_id, contact_id, kind, purpose, fields FROM marketing_messages WHERE message_id = $1", messageID).
		Scan(&m.MessageID, &m.TenantID, &m.ContactID, &m.Kind, &m.Purpose, &m.Fields)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &m, err
}

// CampaignStateOfMessage returns the state of the campaign a message was sent for,
// or ErrNotFound for a message of no campaign.
func (db *DB) CampaignStateOfMessage(ctx context.Context, messageID string) (string, error) {
	var state string
	err := db.queryRow(ctx, "SELECT c.state FROM campaign_recipients cr JOIN campaigns c ON c.id = cr.campaign_id WHERE cr.message_id = $1", messageID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return state, err
}

// CampaignDelivery is one recipient of a campaign's stored message.
type CampaignDelivery struct {
	ContactID, MessageID, RecipientID, Variant string
}

// CampaignDeliveries lists the stored messages of a campaign's variant ("" all), in
// contact order, up to limit.
func (db *DB) CampaignDeliveries(ctx context.Context, campaignID, variant string, limit int) ([]*CampaignDelivery, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT cr.contact_id, cr.message_id, r.id, cr.variant FROM campaign_recipients cr JOIN recipients r ON r.message_id = cr.message_id"+
		" WHERE cr.campaign_id = $1 AND cr.message_id <> '' AND ($2 = '' OR cr.variant = $2) ORDER BY cr.contact_id LIMIT $3", campaignID, variant, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*CampaignDelivery
	for rows.Next() {
		var d CampaignDelivery
		if err := rows.Scan(&d.ContactID, &d.MessageID, &d.RecipientID, &d.Variant); err != nil {
			return nil, err
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}
