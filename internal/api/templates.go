package api

import (
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/mailtemplate"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TemplateRequest is the body of POST and PUT /v1/templates.
type TemplateRequest struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	// Track applies to messages from this template that do not say "track".
	Track *pipeline.Track `json:"track"`
}

// TemplateView is a stored template.
type TemplateView struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Subject   string          `json:"subject"`
	Text      string          `json:"text,omitempty"`
	HTML      string          `json:"html,omitempty"`
	Track     *pipeline.Track `json:"track,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// templates is the service the dashboard's template pages call too.
func (s *Server) templates() *mailtemplate.Service { return mailtemplate.New(s.DB, s.Tenants) }

// templateRequest decodes a template's body.
func templateRequest(r *http.Request) (string, *pipeline.TemplateContent, error) {
	body, err := readBody(r)
	if err != nil {
		return "", nil, err
	}
	var req TemplateRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	return req.Name, &pipeline.TemplateContent{Subject: req.Subject, Text: req.Text, HTML: req.HTML, Track: req.Track}, nil
}

func templateProblem(fe []*mailtemplate.FieldError) error {
	var fp []FieldProblem
	for _, f := range fe {
		fp = append(fp, FieldProblem{f.Field, f.Detail})
	}
	return problem(422, "Invalid template", fe[0].Field+": "+fe[0].Detail, fp...)
}

func templateView(t *mailtemplate.Template) *TemplateView {
	c := t.Content
	return &TemplateView{ID: t.ID, Name: t.Name, Subject: c.Subject, Text: c.Text, HTML: c.HTML, Track: c.Track, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	name, c, err := templateRequest(r)
	if err != nil {
		return err
	}
	t, fe, err := s.templates().Create(r.Context(), p.TenantID, name, c)
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		return templateProblem(fe)
	}
	w.Header().Set("Location", "/v1/templates/"+t.ID)
	writeJSON(w, http.StatusCreated, templateView(t))
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	t, err := s.templates().Get(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, templateView(t))
	return nil
}

func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	// Another tenant's id is not found before its body is looked at.
	if _, err := s.DB.Template(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	name, c, err := templateRequest(r)
	if err != nil {
		return err
	}
	t, fe, err := s.templates().Update(r.Context(), p.TenantID, r.PathValue("id"), name, c)
	if err != nil {
		return err
	}
	if len(fe) > 0 {
		return templateProblem(fe)
	}
	writeJSON(w, 200, templateView(t))
	return nil
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.templates().Delete(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ts, pg, err := readPage(r, p.TenantID, s.templates().List, func(t *mailtemplate.Template) string { return t.ID })
	if err != nil {
		return err
	}
	out := struct {
		Templates []*TemplateView `json:"templates"`
		cursorPage
	}{[]*TemplateView{}, pg}
	for _, t := range ts {
		out.Templates = append(out.Templates, templateView(t))
	}
	writeJSON(w, 200, out)
	return nil
}
