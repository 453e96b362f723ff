// Package marketing owns the audience of marketing mail: contacts with typed custom
// fields (sealed, filtered through keyed hashes), lists, topics, saved segments,
// consent and authorisation records, suppression and unsubscribe links.
package marketing

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// FieldError names one invalid input by its JSON path (or CSV row and column).
type FieldError = message.FieldError

// InvalidError carries every problem of one request.
type InvalidError struct {
	Title  string
	Fields []*FieldError
}

func (e *InvalidError) Error() string {
	if len(e.Fields) == 0 {
		return e.Title
	}
	return e.Fields[0].Field + ": " + e.Fields[0].Detail
}

func invalid(title string, fe []*FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return &InvalidError{Title: title, Fields: fe}
}

func fieldErr(field, detail string) *FieldError {
	return &FieldError{Field: field, Detail: detail, Status: 422}
}

// ErrNotFound is store.ErrNotFound: the object does not exist or is another tenant's.
var ErrNotFound = store.ErrNotFound

// Service is the one place marketing rules live; the API, the CLI, the public pages
// and other capabilities (forms, the SMTP gateway, campaigns) call its methods.
type Service struct {
	DB      *store.DB
	Tenants *tenant.Service
	Log     *slog.Logger
	Now     func() time.Time
	// Retain is how long consent records outlive their contact; 0 is six years
	// (45 CFR 164.530(j)).
	Retain time.Duration
	// BaseURL is where recipients reach the public pages (/u/…): the portal's URL.
	BaseURL string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) retain() time.Duration {
	if s.Retain > 0 {
		return s.Retain
	}
	return 6 * 365 * 24 * time.Hour
}

func (s *Service) keys(ctx context.Context, tenantID string) (*tenant.Keys, hasher, error) {
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, hasher{}, err
	}
	return k, hasher{key: k.Hash("marketing-index", "v1")}, nil
}

// audited adds the change's audit entry to tx: the caller's (an API request's) when
// given, else one naming the actor.
func audited(ctx context.Context, tx *store.Tx, e *store.AuditEntry, tenantID, actor, action, object, detail string, at time.Time) error {
	if e == nil {
		e = &store.AuditEntry{At: at, TenantID: tenantID, Principal: actor, Action: action, Result: "ok"}
	}
	if e.Object == "" {
		e.Object = object
	}
	if e.Detail == "" {
		e.Detail = detail
	}
	return tx.AppendAudit(ctx, e)
}

// Schema returns a tenant's custom fields.
func (s *Service) Schema(ctx context.Context, tenantID string) ([]*Field, error) {
	fs, err := s.DB.MarketingFields(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*Field, len(fs))
	for i, f := range fs {
		out[i] = &Field{Name: f.Name, Type: f.Type, Filterable: f.Filterable}
	}
	return out, nil
}

func schemaMap(fs []*Field) map[string]*Field {
	m := make(map[string]*Field, len(fs))
	for _, f := range fs {
		m[f.Name] = f
	}
	return m
}

// reserved names are columns every contact has.
var reserved = []string{"email", "id", "created_at", "updated_at", "lists", "topics"}

// AddField adds a custom field to a tenant's schema.
func (s *Service) AddField(ctx context.Context, tenantID string, f *Field, audit *store.AuditEntry) error {
	var fe []*FieldError
	if !fieldName.MatchString(f.Name) || slices.Contains(reserved, f.Name) {
		fe = append(fe, fieldErr("name", "must be 1-40 lowercase letters, digits or _ starting with a letter, and not one of "+strings.Join(reserved, ", ")))
	}
	if !slices.Contains(fieldTypes, f.Type) {
		fe = append(fe, fieldErr("type", "must be one of "+strings.Join(fieldTypes, ", ")))
	}
	if err := invalid("Invalid field", fe); err != nil {
		return err
	}
	now := s.now()
	err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertMarketingField(ctx, &store.MarketingField{TenantID: tenantID, Name: f.Name, Type: f.Type, Filterable: f.Filterable, CreatedAt: now}); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.field.add", f.Name, "", now)
	})
	if errors.Is(err, store.ErrConflict) {
		return invalid("Invalid field", []*FieldError{fieldErr("name", "a field with this name exists")})
	}
	return err
}

// DeleteField removes a custom field from the schema.
func (s *Service) DeleteField(ctx context.Context, tenantID, name string, audit *store.AuditEntry) error {
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteMarketingField(ctx, tenantID, name); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.field.delete", name, "", now)
	})
}
