package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
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

func (s *Server) templateFromRequest(r *http.Request, p *tenant.Principal, t *store.Template) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req TemplateRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Name == "" || len(req.Name) > 200 || !printableName(req.Name) {
		return badField("name", "1-200 printable characters")
	}
	c := &pipeline.TemplateContent{Subject: req.Subject, Text: req.Text, HTML: req.HTML, Track: req.Track}
	if _, _, _, fe := pipeline.ParseTemplate(c); fe != nil {
		return problem(422, "Invalid template", fe.Field+": "+fe.Detail, FieldProblem{fe.Field, fe.Detail})
	}
	keys, err := s.Tenants.Keys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(c)
	t.Name = req.Name
	t.Content = keys.Data.Seal(b, "template/"+t.ID)
	t.UpdatedAt = time.Now()
	return nil
}

func printableName(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (s *Server) templateView(r *http.Request, p *tenant.Principal, t *store.Template) (*TemplateView, error) {
	keys, err := s.Tenants.Keys(r.Context(), p.TenantID)
	if err != nil {
		return nil, err
	}
	c, err := pipeline.LoadTemplate(keys, t)
	if err != nil {
		return nil, err
	}
	return &TemplateView{ID: t.ID, Name: t.Name, Subject: c.Subject, Text: c.Text, HTML: c.HTML, Track: c.Track, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}, nil
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	t := &store.Template{ID: tenant.NewID("tpl"), TenantID: p.TenantID, CreatedAt: time.Now()}
	if err := s.templateFromRequest(r, p, t); err != nil {
		return err
	}
	if err := s.DB.CreateTemplate(r.Context(), t); err != nil {
		return err
	}
	v, err := s.templateView(r, p, t)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/templates/"+t.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	t, err := s.DB.Template(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := s.templateView(r, p, t)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	t, err := s.DB.Template(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.templateFromRequest(r, p, t); err != nil {
		return err
	}
	if err := s.DB.UpdateTemplate(r.Context(), t); err != nil {
		return err
	}
	v, err := s.templateView(r, p, t)
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.DB.DeleteTemplate(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return badField("limit", "must be 1-500")
		}
		limit = n
	}
	// One more than the page tells whether another page follows.
	ts, err := s.DB.Templates(r.Context(), p.TenantID, r.URL.Query().Get("cursor"), limit+1)
	if err != nil {
		return err
	}
	out := struct {
		Templates  []*TemplateView `json:"templates"`
		NextCursor string          `json:"next_cursor,omitempty"`
		HasMore    bool            `json:"has_more"`
	}{Templates: []*TemplateView{}}
	if len(ts) > limit {
		ts, out.HasMore = ts[:limit], true
		out.NextCursor = ts[len(ts)-1].ID
	}
	for _, t := range ts {
		v, err := s.templateView(r, p, t)
		if err != nil {
			return err
		}
		out.Templates = append(out.Templates, v)
	}
	writeJSON(w, 200, out)
	return nil
}
