package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// MarketingField is one custom contact field in a tenant's schema. The name and type
// are configuration; contacts' values are sealed.
type MarketingField struct {
	TenantID, Name, Type string
	Filterable           bool
	CreatedAt            time.Time
}

// Contact is one marketing contact. Email and Fields are sealed by the caller;
// EmailHash is the tenant's keyed address hash.
type Contact struct {
	ID, TenantID         string
	EmailHash            []byte
	Email                []byte
	Fields               []byte
	CreatedAt, UpdatedAt time.Time
}

// InsertMarketingField adds a field to a tenant's schema (ErrConflict if it exists).
func (tx *Tx) InsertMarketingField(ctx context.Context, f *MarketingField) error {
	_, err := tx.exec(ctx, "INSERT INTO marketing_fields (tenant_id, name, type, filterable, created_at) VALUES ($1, $2, $3, $4, $5)",
		f.TenantID, f.Name, f.Type, b2i(f.Filterable), ms(f.CreatedAt))
	return conflict(err)
}

// DeleteMarketingField removes a field from the schema; values already stored stay in
// their sealed records until the contact is next written.
func (tx *Tx) DeleteMarketingField(ctx context.Context, tenantID, name string) error {
	res, err := tx.exec(ctx, "DELETE FROM marketing_fields WHERE tenant_id = $1 AND name = $2", tenantID, name)
	return oneRow(res, err)
}

// MarketingFields lists a tenant's schema by name.
func (db *DB) MarketingFields(ctx context.Context, tenantID string) ([]*MarketingField, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT tenant_id, name, type, filterable, created_at FROM marketing_fields WHERE tenant_id = $1 ORDER BY name", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*MarketingField
	for rows.Next() {
		var f MarketingField
		var filt int
		var created int64
		if err := rows.Scan(&f.TenantID, &f.Name, &f.Type, &filt, &created); err != nil {
			return nil, err
		}
		f.Filterable, f.CreatedAt = filt == 1, fromMS(created)
		out = append(out, &f)
	}
	return out, rows.Err()
}

const contactCols = "id, tenant_id, email_hash, email, fields, created_at, updated_at"

func scanContact(row interface{ Scan(...any) error }) (*Contact, error) {
	var c Contact
	var created, updated int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.EmailHash, &c.Email, &c.Fields, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return &c, nil
}

// PutContact inserts a contact, or replaces the sealed values of the tenant's contact
// with the same address hash, and replaces its filter index rows. It sets c.ID to the
// stored contact's id and reports whether it was new.
func (tx *Tx) PutContact(ctx context.Context, c *Contact, index [][]byte) (created bool, err error) {
	var id string
	var createdAt int64
	err = tx.queryRow(ctx, "INSERT INTO contacts ("+contactCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)"+
		" ON CONFLICT (tenant_id, email_hash) DO UPDATE SET email = excluded.email, fields = excluded.fields, updated_at = excluded.updated_at"+
		" RETURNING id, created_at", c.ID, c.TenantID, c.EmailHash, c.Email, c.Fields, ms(c.CreatedAt), ms(c.UpdatedAt)).Scan(&id, &createdAt)
	if err != nil {
		return false, err
	}
	created = id == c.ID
	c.ID, c.CreatedAt = id, fromMS(createdAt)
	if !created {
		if _, err := tx.exec(ctx, "DELETE FROM contact_index WHERE contact_id = $1", c.ID); err != nil {
			return false, err
		}
	}
	return created, tx.insertIndex(ctx, c.TenantID, c.ID, index)
}

// insertIndex writes index rows a few hundred at a time: one statement per row made
// imports spend most of their time in round trips.
func (tx *Tx) insertIndex(ctx context.Context, tenantID, contactID string, hs [][]byte) error {
	const per = 300
	for len(hs) > 0 {
		n := min(per, len(hs))
		var b strings.Builder
		b.WriteString("INSERT INTO contact_index (tenant_id, contact_id, h) VALUES ")
		args := []any{tenantID, contactID}
		for i, h := range hs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, h)
			b.WriteString("($1, $2, " + param(len(args)) + ")")
		}
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return err
		}
		hs = hs[n:]
	}
	return nil
}

// Contact loads one of a tenant's contacts.
func (db *DB) Contact(ctx context.Context, tenantID, id string) (*Contact, error) {
	return scanContact(db.queryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE id = $1 AND tenant_id = $2", id, tenantID))
}

// ContactByEmailHash finds a tenant's contact by keyed address hash.
func (db *DB) ContactByEmailHash(ctx context.Context, tenantID string, h []byte) (*Contact, error) {
	return scanContact(db.queryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE tenant_id = $1 AND email_hash = $2", tenantID, h))
}

// ContactsByEmailHash finds which of the hashes already have contacts, keyed by hash.
func (db *DB) ContactsByEmailHash(ctx context.Context, tenantID string, hs [][]byte) (map[string]*Contact, error) {
	out := map[string]*Contact{}
	for len(hs) > 0 {
		n := min(500, len(hs))
		args := []any{tenantID}
		ph := make([]string, n)
		for i, h := range hs[:n] {
			args = append(args, h)
			ph[i] = param(len(args))
		}
		rows, err := db.sql.QueryContext(ctx, "SELECT "+contactCols+" FROM contacts WHERE tenant_id = $1 AND email_hash IN ("+strings.Join(ph, ", ")+")", args...) // #nosec G202 -- a fixed column list and numbered placeholders; the hashes are bound
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanContact(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[string(c.EmailHash)] = c
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		hs = hs[n:]
	}
	return out, nil
}

// Contacts pages through a tenant's contacts by id, after the cursor; streaming an
// export this way never holds more than one page.
func (db *DB) Contacts(ctx context.Context, tenantID, afterID string, limit int) ([]*Contact, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+contactCols+" FROM contacts WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", tenantID, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CountContacts counts a tenant's contacts.
func (db *DB) CountContacts(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM contacts WHERE tenant_id = $1", tenantID).Scan(&n)
	return n, err
}

// DeleteContact removes a contact, its index rows, memberships and subscriptions. Its
// consent records stay, marked with the deletion and kept until retainUntil.
func (tx *Tx) DeleteContact(ctx context.Context, tenantID, id string, at, retainUntil time.Time) error {
	res, err := tx.exec(ctx, "DELETE FROM contacts WHERE id = $1 AND tenant_id = $2", id, tenantID)
	if err := oneRow(res, err); err != nil {
		return err
	}
	for _, q := range []string{
		"DELETE FROM contact_index WHERE contact_id = $1",
		"DELETE FROM list_members WHERE contact_id = $1",
		"DELETE FROM topic_subscriptions WHERE contact_id = $1",
	} {
		if _, err := tx.exec(ctx, q, id); err != nil {
			return err
		}
	}
	_, err = tx.exec(ctx, "UPDATE consents SET contact_deleted_at = $1, retain_until = $2 WHERE contact_id = $3 AND tenant_id = $4", ms(at), ms(retainUntil), id, tenantID)
	return err
}

// param is the n-th positional placeholder; both dialects read $n.
func param(n int) string {
	return "$" + itoa(n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// PutContacts is PutContact for many contacts with distinct address hashes, in a few
// statements: an import's batch costs one round trip per few hundred rows, not two
// per row. It sets each contact's ID and returns how many were new.
func (tx *Tx) PutContacts(ctx context.Context, cs []*Contact, index [][][]byte) (int, error) {
	const per = 100 // SQLite looks up numbered parameters by name: long lists cost quadratically
	created := 0
	for start := 0; start < len(cs); start += per {
		part := cs[start:min(start+per, len(cs))]
		var b strings.Builder
		b.WriteString("INSERT INTO contacts (" + contactCols + ") VALUES ")
		args := make([]any, 0, 7*len(part))
		for i, c := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			args = append(args, c.ID, c.TenantID, c.EmailHash, c.Email, c.Fields, ms(c.CreatedAt), ms(c.UpdatedAt))
			b.WriteString("(" + param(n+1) + ", " + param(n+2) + ", " + param(n+3) + ", " + param(n+4) + ", " + param(n+5) + ", " + param(n+6) + ", " + param(n+7) + ")")
		}
		b.WriteString(" ON CONFLICT (tenant_id, email_hash) DO UPDATE SET email = excluded.email, fields = excluded.fields, updated_at = excluded.updated_at RETURNING id, email_hash")
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return 0, err
		}
		ids := make(map[string]string, len(part))
		for rows.Next() {
			var id string
			var h []byte
			if err := rows.Scan(&id, &h); err != nil {
				rows.Close()
				return 0, err
			}
			ids[string(h)] = id
		}
		if err := rows.Close(); err != nil {
			return 0, err
		}
		var old []any
		for _, c := range part {
			id := ids[string(c.EmailHash)]
			if id == c.ID {
				created++
			} else {
				c.ID = id
				old = append(old, id)
			}
		}
		for len(old) > 0 {
			n := min(500, len(old))
			ph := make([]string, n)
			for i := range ph {
				ph[i] = param(i + 1)
			}
			if err := tx.pending(ctx); err != nil {
				return 0, err
			}
			if _, err := tx.tx.ExecContext(ctx, "DELETE FROM contact_index WHERE contact_id IN ("+strings.Join(ph, ", ")+")", old[:n]...); err != nil { // #nosec G202 -- only numbered placeholders are joined; the ids are bound
				return 0, err
			}
			old = old[n:]
		}
	}
	// Index rows for the whole batch, a few hundred per statement.
	const perIdx = 300
	var b strings.Builder
	args := make([]any, 0, 3*perIdx)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := tx.exec(ctx, b.String(), args...)
		b.Reset()
		args = args[:0]
		return err
	}
	for i, c := range cs {
		for _, h := range index[i] {
			if len(args) == 0 {
				b.WriteString("INSERT INTO contact_index (tenant_id, contact_id, h) VALUES ")
			} else {
				b.WriteString(", ")
			}
			n := len(args)
			args = append(args, c.TenantID, c.ID, h)
			b.WriteString("(" + param(n+1) + ", " + param(n+2) + ", " + param(n+3) + ")")
			if len(args) >= 3*perIdx {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	return created, flush()
}

// RefreshContactStats has PostgreSQL re-read the size and spread of the contact
// tables. A bulk import starts them small: plans made then (a scan of a few pages
// beats an index) are cached by prepared statements and kept as the tables grow,
// until statistics change — autovacuum may be slow to do it, or off — and each
// lookup batch would read the whole table. SQLite's planner prefers the indexes
// without statistics; nothing is done there.
func (db *DB) RefreshContactStats(ctx context.Context) error {
	if db.dialect != Postgres {
		return nil
	}
	_, err := db.sql.ExecContext(ctx, "ANALYZE contacts, contact_index, list_members")
	return err
}
