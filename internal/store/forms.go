package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Form is a stored form definition; Token and Definition are sealed.
type Form struct {
	ID, TenantID, Name   string
	TokenHash            []byte
	Token, Definition    []byte
	CreatedAt, UpdatedAt time.Time
}

const formCols = "id, tenant_id, name, token_hash, token, definition, created_at, updated_at"

func scanForm(row interface{ Scan(...any) error }) (*Form, error) {
	var f Form
	var c, u int64
	if err := row.Scan(&f.ID, &f.TenantID, &f.Name, &f.TokenHash, &f.Token, &f.Definition, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt = fromMS(c), fromMS(u)
	return &f, nil
}

// CreateForm stores a form, with audit (if any) in the same commit.
func (db *DB) CreateForm(ctx context.Context, f *Form, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO forms ("+formCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			f.ID, f.TenantID, f.Name, f.TokenHash, f.Token, f.Definition, ms(f.CreatedAt), ms(f.UpdatedAt))
		if err := conflict(err); err != nil {
			return err
		}
		if audit != nil {
			return tx.AppendAudit(ctx, audit)
		}
		return nil
	})
}

// Form loads a tenant's form.
func (db *DB) Form(ctx context.Context, tenantID, id string) (*Form, error) {
	return scanForm(db.sql.QueryRowContext(ctx, "SELECT "+formCols+" FROM forms WHERE tenant_id = $1 AND id = $2", tenantID, id))
}

// FormByToken finds the form a hosted page's URL names, by the token's hash.
func (db *DB) FormByToken(ctx context.Context, tokenHash []byte) (*Form, error) {
	return scanForm(db.sql.QueryRowContext(ctx, "SELECT "+formCols+" FROM forms WHERE token_hash = $1", tokenHash))
}

// Forms lists a tenant's forms after a cursor id.
func (db *DB) Forms(ctx context.Context, tenantID, after string, limit int) ([]*Form, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+formCols+" FROM forms WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", tenantID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Form
	for rows.Next() {
		f, err := scanForm(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteForm removes a tenant's form and the submissions it stored; the messages its
// submissions became live on under their own retention.
func (db *DB) DeleteForm(ctx context.Context, tenantID, id string, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM forms WHERE tenant_id = $1 AND id = $2", tenantID, id)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM form_submissions WHERE tenant_id = $1 AND form_id = $2", tenantID, id); err != nil {
			return err
		}
		if audit != nil {
			return tx.AppendAudit(ctx, audit)
		}
		return nil
	})
}

// FormSubmission is one accepted submission; Content is sealed (nil when the form
// does not store submissions).
type FormSubmission struct {
	ID, FormID, TenantID, MessageID string
	CreatedAt, ExpiresAt            time.Time
	EvidenceHash                    []byte
	ConsentID                       string
	Content                         []byte
}

const submissionCols = "id, form_id, tenant_id, message_id, created_at, expires_at, evidence_hash, consent_id, content"

// InsertFormSubmission stores a submission inside the caller's transaction: the
// message it became and its row commit together.
func (tx *Tx) InsertFormSubmission(ctx context.Context, s *FormSubmission) error {
	_, err := tx.exec(ctx, "INSERT INTO form_submissions ("+submissionCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		s.ID, s.FormID, s.TenantID, s.MessageID, ms(s.CreatedAt), ms(s.ExpiresAt), s.EvidenceHash, s.ConsentID, s.Content)
	return err
}

// InsertFormSubmission stores a submission on its own (a form without a mail
// destination), with its events and their webhook jobs in the same commit.
func (db *DB) InsertFormSubmission(ctx context.Context, s *FormSubmission, events ...*Event) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if err := tx.InsertFormSubmission(ctx, s); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		return tx.InsertEvents(ctx, events...)
	})
}

// SetFormConsent records the consent record a submission created.
func (db *DB) SetFormConsent(ctx context.Context, tenantID, id, consentID string) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE form_submissions SET consent_id = $1 WHERE tenant_id = $2 AND id = $3", consentID, tenantID, id)
		return oneRow(res, err)
	})
}

func scanSubmission(row interface{ Scan(...any) error }) (*FormSubmission, error) {
	var s FormSubmission
	var c, e int64
	if err := row.Scan(&s.ID, &s.FormID, &s.TenantID, &s.MessageID, &c, &e, &s.EvidenceHash, &s.ConsentID, &s.Content); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = fromMS(c), fromMS(e)
	return &s, nil
}

// FormSubmission loads one submission of a tenant's form.
func (db *DB) FormSubmission(ctx context.Context, tenantID, formID, id string) (*FormSubmission, error) {
	return scanSubmission(db.sql.QueryRowContext(ctx, "SELECT "+submissionCols+" FROM form_submissions WHERE tenant_id = $1 AND form_id = $2 AND id = $3",
		tenantID, formID, id))
}

// FormSubmissions lists a form's submissions after a cursor id, oldest first.
func (db *DB) FormSubmissions(ctx context.Context, tenantID, formID, after string, limit int) ([]*FormSubmission, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+submissionCols+" FROM form_submissions WHERE tenant_id = $1 AND form_id = $2 AND id > $3 ORDER BY id LIMIT $4",
		tenantID, formID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*FormSubmission
	for rows.Next() {
		s, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// PurgeFormSubmissions deletes submissions past their form's retention.
func (db *DB) PurgeFormSubmissions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM form_submissions WHERE expires_at <= $1", ms(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
