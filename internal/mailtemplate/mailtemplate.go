// Package mailtemplate keeps a tenant's stored message templates: checked (a name, parts
// that parse, text or HTML), sealed at rest, and rendered for a preview by the same
// renderer sending uses. The API and the dashboard both act through it.
package mailtemplate

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/render"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Template is a stored template, opened.
type Template struct {
	ID        string
	Name      string
	Content   *pipeline.TemplateContent
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FieldError names the part of a template that is wrong.
type FieldError = message.FieldError

// Service stores and reads templates.
type Service struct {
	DB      *store.DB
	Tenants *tenant.Service
	Now     func() time.Time
}

// New makes the service.
func New(db *store.DB, tenants *tenant.Service) *Service {
	return &Service{DB: db, Tenants: tenants, Now: time.Now}
}

// Check names every problem of a template's name and parts.
func Check(name string, c *pipeline.TemplateContent) []*FieldError {
	var fe []*FieldError
	if name == "" || len(name) > 200 || !printable(name) {
		fe = append(fe, &FieldError{Field: "name", Detail: "1-200 printable characters", Status: 422})
	}
	if _, _, _, f := pipeline.ParseTemplate(c); f != nil {
		fe = append(fe, f)
	}
	return fe
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Create checks and stores a new template.
func (s *Service) Create(ctx context.Context, tenantID, name string, c *pipeline.TemplateContent) (*Template, []*FieldError, error) {
	if fe := Check(name, c); len(fe) > 0 {
		return nil, fe, nil
	}
	now := s.Now()
	t := &store.Template{ID: tenant.NewID("tpl"), TenantID: tenantID, Name: name, CreatedAt: now, UpdatedAt: now}
	if err := s.seal(ctx, t, c); err != nil {
		return nil, nil, err
	}
	if err := s.DB.CreateTemplate(ctx, t); err != nil {
		return nil, nil, err
	}
	return &Template{ID: t.ID, Name: name, Content: c, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}, nil, nil
}

// Update checks and replaces a template's name and content.
func (s *Service) Update(ctx context.Context, tenantID, id, name string, c *pipeline.TemplateContent) (*Template, []*FieldError, error) {
	t, err := s.DB.Template(ctx, tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	if fe := Check(name, c); len(fe) > 0 {
		return nil, fe, nil
	}
	t.Name, t.UpdatedAt = name, s.Now()
	if err := s.seal(ctx, t, c); err != nil {
		return nil, nil, err
	}
	if err := s.DB.UpdateTemplate(ctx, t); err != nil {
		return nil, nil, err
	}
	return &Template{ID: t.ID, Name: name, Content: c, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}, nil, nil
}

func (s *Service) seal(ctx context.Context, t *store.Template, c *pipeline.TemplateContent) error {
	keys, err := s.Tenants.Keys(ctx, t.TenantID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	t.Content = keys.Data.Seal(b, "template/"+t.ID)
	return nil
}

// Get opens one template.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*Template, error) {
	t, err := s.DB.Template(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	keys, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return open(keys, t)
}

// List opens a page of templates after the cursor (a template id).
func (s *Service) List(ctx context.Context, tenantID, after string, limit int) ([]*Template, error) {
	ts, err := s.DB.Templates(ctx, tenantID, after, limit)
	if err != nil {
		return nil, err
	}
	keys, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*Template, 0, len(ts))
	for _, t := range ts {
		o, err := open(keys, t)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func open(keys *tenant.Keys, t *store.Template) (*Template, error) {
	c, err := pipeline.LoadTemplate(keys, t)
	if err != nil {
		return nil, err
	}
	return &Template{ID: t.ID, Name: t.Name, Content: c, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}, nil
}

// Delete removes a template.
func (s *Service) Delete(ctx context.Context, tenantID, id string) error {
	return s.DB.DeleteTemplate(ctx, tenantID, id)
}

// Rendered is a template filled with sample data.
type Rendered struct {
	Subject, Text, HTML string
	// Missing lists variables the template uses that the data lacks: sending with
	// this data would be refused naming them.
	Missing []string
}

// Render fills a template's parts with data by the renderer sending uses (HTML
// escaped as in a sent message), collecting every missing variable.
func Render(c *pipeline.TemplateContent, data map[string]any) (*Rendered, []*FieldError) {
	subj, text, html, fe := pipeline.ParseTemplate(c)
	if fe != nil {
		return nil, []*FieldError{fe}
	}
	out := &Rendered{}
	var errs []*FieldError
	for _, p := range []struct {
		field string
		t     *render.Template
		mode  render.Mode
		dst   *string
	}{{"subject", subj, render.Text, &out.Subject}, {"text", text, render.Text, &out.Text}, {"html", html, render.HTML, &out.HTML}} {
		if p.t == nil {
			continue
		}
		var b strings.Builder
		err := p.t.Execute(&b, data, p.mode)
		var miss *render.MissingError
		switch {
		case errors.As(err, &miss):
			for _, v := range miss.Variables {
				if !slices.Contains(out.Missing, v) {
					out.Missing = append(out.Missing, v)
				}
			}
		case err != nil:
			errs = append(errs, &FieldError{Field: p.field, Detail: err.Error(), Status: 422})
		}
		*p.dst = b.String()
	}
	return out, errs
}
