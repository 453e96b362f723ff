package api

import (
	"context"
	"net/http"

	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/tenant"
)

// formProblems turns a service's field errors into one problem naming them all.
func formProblems(title string, fe []*forms.FieldError) *Problem {
	status := 400
	var fields []FieldProblem
	for _, f := range fe {
		if f.Status > status {
			status = f.Status
		}
		fields = append(fields, FieldProblem{Field: f.Field, Detail: f.Detail})
	}
	return problem(status, title, fe[0].Field+": "+fe[0].Detail, fields...)
}

func (s *Server) formsService() (*forms.Service, error) {
	if s.Forms == nil {
		return nil, problem(503, "Forms unavailable", "secure forms are not enabled on this server")
	}
	return s.Forms, nil
}

func (s *Server) createForm(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var d forms.Definition
	if err := decodeJSON(body, &d); err != nil {
		return err
	}
	v, fe, err := svc.Create(r.Context(), p.TenantID, &d, nil)
	if err != nil {
		return err
	}
	if fe != nil {
		return formProblems("Invalid form", fe)
	}
	w.Header().Set("Location", "/v1/forms/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) getForm(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	v, err := svc.Get(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, v)
	return nil
}

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	if err := svc.Delete(r.Context(), p.TenantID, r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listForms(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	vs, pg, err := readPage(r, p.TenantID, svc.List, func(v *forms.View) string { return v.ID })
	if err != nil {
		return err
	}
	writeJSON(w, 200, struct {
		Forms []*forms.View `json:"forms"`
		cursorPage
	}{vs, pg})
	return nil
}

func (s *Server) listFormSubmissions(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	submissions := func(ctx context.Context, tenantID, after string, limit int) ([]*forms.SubmissionView, error) {
		return svc.Submissions(ctx, tenantID, r.PathValue("id"), after, limit)
	}
	subs, pg, err := readPage(r, p.TenantID, submissions, func(v *forms.SubmissionView) string { return v.ID })
	if err != nil {
		return err
	}
	writeJSON(w, 200, struct {
		Submissions []*forms.SubmissionView `json:"submissions"`
		cursorPage
	}{subs, pg})
	return nil
}
