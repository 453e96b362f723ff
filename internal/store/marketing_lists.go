package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// MarketingList is a list contacts join. Name is sealed by the caller.
type MarketingList struct {
	ID, TenantID string
	Name         []byte
	Public       bool
	DoubleOptIn  bool
	CreatedAt    time.Time
}

// Topic is a subject a contact may opt in or out of in the preference centre. Name and
// Description are sealed by the caller.
type Topic struct {
	ID, TenantID      string
	Name, Description []byte
	CreatedAt         time.Time
}

// Membership is a contact's standing on a list.
type Membership struct {
	ListID, ContactID, Status string
	UpdatedAt                 time.Time
}

// InsertMarketingList stores a new list.
func (tx *Tx) InsertMarketingList(ctx context.Context, l *MarketingList) error {
	_, err := tx.exec(ctx, "INSERT INTO marketing_lists (id, tenant_id, name, public, double_optin, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		l.ID, l.TenantID, l.Name, b2i(l.Public), b2i(l.DoubleOptIn), ms(l.CreatedAt))
	return err
}

func scanList(row interface{ Scan(...any) error }) (*MarketingList, error) {
	var l MarketingList
	var pub, dbl int
	var created int64
	if err := row.Scan(&l.ID, &l.TenantID, &l.Name, &pub, &dbl, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	l.Public, l.DoubleOptIn, l.CreatedAt = pub == 1, dbl == 1, fromMS(created)
	return &l, nil
}

// MarketingList loads one of a tenant's lists.
func (db *DB) MarketingList(ctx context.Context, tenantID, id string) (*MarketingList, error) {
	return scanList(db.queryRow(ctx, "SELECT id, tenant_id, name, public, double_optin, created_at FROM marketing_lists WHERE id = $1 AND tenant_id = $2", id, tenantID))
}

// MarketingLists lists a tenant's lists, oldest first.
func (db *DB) MarketingLists(ctx context.Context, tenantID string) ([]*MarketingList, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, tenant_id, name, public, double_optin, created_at FROM marketing_lists WHERE tenant_id = $1 ORDER BY id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*MarketingList
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DeleteMarketingList removes a list and its memberships.
func (tx *Tx) DeleteMarketingList(ctx context.Context, tenantID, id string) error {
	res, err := tx.exec(ctx, "DELETE FROM marketing_lists WHERE id = $1 AND tenant_id = $2", id, tenantID)
	if err := oneRow(res, err); err != nil {
		return err
	}
	_, err = tx.exec(ctx, "DELETE FROM list_members WHERE list_id = $1", id)
	return err
}

// PutMembership sets a contact's status on a list.
func (tx *Tx) PutMembership(ctx context.Context, tenantID string, m *Membership) error {
	_, err := tx.exec(ctx, "INSERT INTO list_members (list_id, contact_id, tenant_id, status, updated_at) VALUES ($1, $2, $3, $4, $5)"+
		" ON CONFLICT (list_id, contact_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
		m.ListID, m.ContactID, tenantID, m.Status, ms(m.UpdatedAt))
	return err
}

// DeleteMembership takes a contact off a list.
func (tx *Tx) DeleteMembership(ctx context.Context, tenantID, listID, contactID string) error {
	res, err := tx.exec(ctx, "DELETE FROM list_members WHERE list_id = $1 AND contact_id = $2 AND tenant_id = $3", listID, contactID, tenantID)
	return oneRow(res, err)
}

// Memberships lists a contact's lists.
func (db *DB) Memberships(ctx context.Context, tenantID, contactID string) ([]*Membership, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT list_id, contact_id, status, updated_at FROM list_members WHERE contact_id = $1 AND tenant_id = $2 ORDER BY list_id", contactID, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Membership
	for rows.Next() {
		var m Membership
		var at int64
		if err := rows.Scan(&m.ListID, &m.ContactID, &m.Status, &at); err != nil {
			return nil, err
		}
		m.UpdatedAt = fromMS(at)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// InsertTopic stores a new topic.
func (tx *Tx) InsertTopic(ctx context.Context, t *Topic) error {
	_, err := tx.exec(ctx, "INSERT INTO marketing_topics (id, tenant_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)",
		t.ID, t.TenantID, t.Name, t.Description, ms(t.CreatedAt))
	return err
}

// Topics lists a tenant's topics, oldest first.
func (db *DB) Topics(ctx context.Context, tenantID string) ([]*Topic, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, tenant_id, name, description, created_at FROM marketing_topics WHERE tenant_id = $1 ORDER BY id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Topic
	for rows.Next() {
		var t Topic
		var created int64
		if err := rows.Scan(&t.ID, &t.TenantID, &t.Name, &t.Description, &created); err != nil {
			return nil, err
		}
		t.CreatedAt = fromMS(created)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// DeleteTopic removes a topic and its subscriptions.
func (tx *Tx) DeleteTopic(ctx context.Context, tenantID, id string) error {
	res, err := tx.exec(ctx, "DELETE FROM marketing_topics WHERE id = $1 AND tenant_id = $2", id, tenantID)
	if err := oneRow(res, err); err != nil {
		return err
	}
	_, err = tx.exec(ctx, "DELETE FROM topic_subscriptions WHERE topic_id = $1", id)
	return err
}

// PutSubscription records a contact's choice for a topic.
func (tx *Tx) PutSubscription(ctx context.Context, tenantID, topicID, contactID string, subscribed bool, at time.Time) error {
	_, err := tx.exec(ctx, "INSERT INTO topic_subscriptions (topic_id, contact_id, tenant_id, subscribed, updated_at) VALUES ($1, $2, $3, $4, $5)"+
		" ON CONFLICT (topic_id, contact_id) DO UPDATE SET subscribed = excluded.subscribed, updated_at = excluded.updated_at",
		topicID, contactID, tenantID, b2i(subscribed), ms(at))
	return err
}

// Subscriptions returns a contact's topic choices: topic id → subscribed.
func (db *DB) Subscriptions(ctx context.Context, tenantID, contactID string) (map[string]bool, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT topic_id, subscribed FROM topic_subscriptions WHERE contact_id = $1 AND tenant_id = $2", contactID, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		var sub int
		if err := rows.Scan(&id, &sub); err != nil {
			return nil, err
		}
		out[id] = sub == 1
	}
	return out, rows.Err()
}

// Segment is a saved filter. Name and Filter are sealed by the caller.
type Segment struct {
	ID, TenantID         string
	Name, Filter         []byte
	CreatedAt, UpdatedAt time.Time
}

// PutSegment inserts or replaces a saved segment.
func (tx *Tx) PutSegment(ctx context.Context, s *Segment) error {
	_, err := tx.exec(ctx, "INSERT INTO marketing_segments (id, tenant_id, name, filter, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"+
		" ON CONFLICT (id) DO UPDATE SET name = excluded.name, filter = excluded.filter, updated_at = excluded.updated_at",
		s.ID, s.TenantID, s.Name, s.Filter, ms(s.CreatedAt), ms(s.UpdatedAt))
	return err
}

func scanSegment(row interface{ Scan(...any) error }) (*Segment, error) {
	var s Segment
	var c, u int64
	if err := row.Scan(&s.ID, &s.TenantID, &s.Name, &s.Filter, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromMS(c), fromMS(u)
	return &s, nil
}

// Segment loads one of a tenant's saved segments.
func (db *DB) Segment(ctx context.Context, tenantID, id string) (*Segment, error) {
	return scanSegment(db.queryRow(ctx, "SELECT id, tenant_id, name, filter, created_at, updated_at FROM marketing_segments WHERE id = $1 AND tenant_id = $2", id, tenantID))
}

// Segments lists a tenant's saved segments.
func (db *DB) Segments(ctx context.Context, tenantID string) ([]*Segment, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, tenant_id, name, filter, created_at, updated_at FROM marketing_segments WHERE tenant_id = $1 ORDER BY id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSegment removes a saved segment.
func (tx *Tx) DeleteSegment(ctx context.Context, tenantID, id string) error {
	res, err := tx.exec(ctx, "DELETE FROM marketing_segments WHERE id = $1 AND tenant_id = $2", id, tenantID)
	return oneRow(res, err)
}
