package api

import (
	"net/http"
	"strconv"

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

func pageLimit(r *http.Request) (int, error) {
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return 0, badField("limit", "must be 1-500")
		}
		return n, nil
	}
	return 100, nil
}

func (s *Server) listForms(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	vs, err := svc.List(r.Context(), p.TenantID, r.URL.Query().Get("cursor"), limit+1)
	if err != nil {
		return err
	}
	out := struct {
		Forms      []*forms.View `json:"forms"`
		NextCursor string        `json:"next_cursor,omitempty"`
		HasMore    bool          `json:"has_more"`
	}{Forms: vs}
	if len(vs) > limit {
		out.Forms, out.HasMore = vs[:limit], true
		out.NextCursor = vs[limit-1].ID
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) listFormSubmissions(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.formsService()
	if err != nil {
		return err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	subs, err := svc.Submissions(r.Context(), p.TenantID, r.PathValue("id"), r.URL.Query().Get("cursor"), limit+1)
	if err != nil {
		return err
	}
	out := struct {
		Submissions []*forms.SubmissionView `json:"submissions"`
		NextCursor  string                  `json:"next_cursor,omitempty"`
		HasMore     bool                    `json:"has_more"`
	}{Submissions: subs}
	if len(subs) > limit {
		out.Submissions, out.HasMore = subs[:limit], true
		out.NextCursor = subs[limit-1].ID
	}
	writeJSON(w, 200, out)
	return nil
}
