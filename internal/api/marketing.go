package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/tenant"
)

// mk turns the marketing service's validation errors into problems with field paths.
func mk(err error) error {
	var ie *marketing.InvalidError
	if errors.As(err, &ie) {
		var fp []FieldProblem
		for _, f := range ie.Fields {
			fp = append(fp, FieldProblem{Field: f.Field, Detail: f.Detail})
		}
		return problem(422, ie.Title, ie.Error(), fp...)
	}
	return err
}

func (s *Server) decodeBody(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

func limitParam(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	return n
}

func (s *Server) listContactFields(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	fs, err := s.Marketing.Schema(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []*marketing.Field{}
	}
	writeJSON(w, 200, map[string]any{"fields": fs})
	return nil
}

func (s *Server) addContactField(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var f marketing.Field
	if err := s.decodeBody(r, &f); err != nil {
		return err
	}
	a, done := s.inlineAudit(r, p, "POST /v1/contact-fields", 201)
	if err := s.Marketing.AddField(r.Context(), p.TenantID, &f, a); err != nil {
		return mk(err)
	}
	done()
	writeJSON(w, 201, f)
	return nil
}

func (s *Server) deleteContactField(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Marketing.DeleteField(r.Context(), p.TenantID, r.PathValue("name"), nil); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	cs, err := s.Marketing.ListContacts(r.Context(), p.TenantID, r.URL.Query().Get("after"), limitParam(r))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"contacts": cs})
	return nil
}

func (s *Server) putContact(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in marketing.ContactInput
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	a, done := s.inlineAudit(r, p, "POST /v1/contacts", 200)
	c, created, err := s.Marketing.PutContact(r.Context(), p.TenantID, &in, a)
	if err != nil {
		return mk(err)
	}
	done()
	status := 200
	if created {
		status = 201
		w.Header().Set("Location", "/v1/contacts/"+c.ID)
	}
	writeJSON(w, status, c)
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	c, err := s.Marketing.GetContact(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, c)
	return nil
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Marketing.DeleteContact(r.Context(), p.TenantID, r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

// importContacts reads text/csv as it arrives: the body is never held whole.
func (s *Server) importContacts(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	rep, err := s.Marketing.Import(r.Context(), p.TenantID, r.Body, marketing.ImportOptions{List: r.URL.Query().Get("list")}, nil)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem(413, "Request too large", "the file exceeds the request size limit; split it")
		}
		return mk(err)
	}
	writeJSON(w, 200, rep)
	return nil
}

func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts.csv"`)
	n, err := s.Marketing.Export(r.Context(), p.TenantID, w)
	if err != nil && n == 0 {
		w.Header().Del("Content-Disposition")
		return err
	}
	if err != nil {
		// The status is sent; a cut-off file is all the client can be told.
		s.Log.Error("export failed part way", "err", err, "rows", n)
	}
	return nil
}

func (s *Server) listLists(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ls, err := s.Marketing.Lists(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"lists": ls})
	return nil
}

func (s *Server) createList(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in struct {
		Name        string `json:"name"`
		Public      bool   `json:"public"`
		DoubleOptIn bool   `json:"double_opt_in"`
	}
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	l, err := s.Marketing.CreateList(r.Context(), p.TenantID, &marketing.List{Name: in.Name, Public: in.Public, DoubleOptIn: in.DoubleOptIn}, nil)
	if err != nil {
		return mk(err)
	}
	writeJSON(w, 201, l)
	return nil
}

func (s *Server) getList(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	l, err := s.Marketing.GetList(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, l)
	return nil
}

func (s *Server) deleteList(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Marketing.DeleteList(r.Context(), p.TenantID, r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) putListMember(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	// Another tenant's list or contact is 404 before the body is looked at.
	if _, err := s.Marketing.GetList(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	if _, err := s.Marketing.GetContact(r.Context(), p.TenantID, r.PathValue("contact")); err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	if in.Status == "" {
		return badField("status", "must be pending, confirmed or unsubscribed")
	}
	if err := s.Marketing.SetMembership(r.Context(), p.TenantID, r.PathValue("id"), r.PathValue("contact"), in.Status, nil); err != nil {
		return mk(err)
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) deleteListMember(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Marketing.SetMembership(r.Context(), p.TenantID, r.PathValue("id"), r.PathValue("contact"), "", nil); err != nil {
		return mk(err)
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) listTopics(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ts, err := s.Marketing.Topics(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"topics": ts})
	return nil
}

func (s *Server) createTopic(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	t, err := s.Marketing.CreateTopic(r.Context(), p.TenantID, &marketing.Topic{Name: in.Name, Description: in.Description}, nil)
	if err != nil {
		return mk(err)
	}
	writeJSON(w, 201, t)
	return nil
}

func (s *Server) listSegments(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	sg, err := s.Marketing.Segments(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"segments": sg})
	return nil
}

func (s *Server) createSegment(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in marketing.SegmentInput
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	sg, err := s.Marketing.CreateSegment(r.Context(), p.TenantID, &in, nil)
	if err != nil {
		return mk(err)
	}
	writeJSON(w, 201, sg)
	return nil
}

func (s *Server) getSegment(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	sg, err := s.Marketing.GetSegment(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, sg)
	return nil
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Marketing.DeleteSegment(r.Context(), p.TenantID, r.PathValue("id"), nil); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) segmentContacts(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	sg, err := s.Marketing.GetSegment(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	page, err := s.Marketing.Members(r.Context(), p.TenantID, sg.Filter, r.URL.Query().Get("after"), limitParam(r))
	if err != nil {
		return mk(err)
	}
	writeJSON(w, 200, page)
	return nil
}

func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in struct {
		Filter json.RawMessage `json:"filter"`
	}
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	page, err := s.Marketing.Members(r.Context(), p.TenantID, in.Filter, r.URL.Query().Get("after"), limitParam(r))
	if err != nil {
		return mk(err)
	}
	writeJSON(w, 200, page)
	return nil
}

func (s *Server) listConsents(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	cs, err := s.Marketing.Consents(r.Context(), p.TenantID, r.URL.Query().Get("contact"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"consents": cs})
	return nil
}

func (s *Server) addConsent(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in marketing.ConsentInput
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	a, done := s.inlineAudit(r, p, "POST /v1/consents", 201)
	c, err := s.Marketing.AddConsent(r.Context(), p.TenantID, &in, a)
	if err != nil {
		return mk(err)
	}
	done()
	writeJSON(w, 201, c)
	return nil
}

func (s *Server) getConsent(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	c, err := s.Marketing.GetConsent(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, c)
	return nil
}

func (s *Server) revokeConsent(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if _, err := s.Marketing.GetConsent(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	var in struct {
		Via string `json:"via"`
	}
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	a, done := s.inlineAudit(r, p, "POST /v1/consents/{id}/revoke", 200)
	c, err := s.Marketing.RevokeConsent(r.Context(), p.TenantID, r.PathValue("id"), in.Via, a)
	if err != nil {
		return mk(err)
	}
	done()
	writeJSON(w, 200, c)
	return nil
}

func (s *Server) fireConsentEvent(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in struct {
		Contact string `json:"contact"`
		Event   string `json:"event"`
	}
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	a, done := s.inlineAudit(r, p, "POST /v1/consents/expiry-events", 200)
	ids, err := s.Marketing.FireExpiryEvent(r.Context(), p.TenantID, in.Contact, in.Event, a)
	if err != nil {
		return mk(err)
	}
	done()
	writeJSON(w, 200, map[string]any{"expired": ids})
	return nil
}

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	ss, err := s.Marketing.Suppressions(r.Context(), p.TenantID, r.URL.Query().Get("scope"), before, limitParam(r))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"suppressions": ss})
	return nil
}

type suppressionRequest struct {
	Email  string `json:"email"`
	Scope  string `json:"scope"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) addSuppression(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in suppressionRequest
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	if in.Reason == "" {
		in.Reason = "manual"
	}
	a, done := s.inlineAudit(r, p, "POST /v1/suppressions", 204)
	if err := s.Marketing.AddSuppression(r.Context(), p.TenantID, in.Email, in.Reason, in.Scope, a); err != nil {
		return mk(err)
	}
	done()
	w.WriteHeader(204)
	return nil
}

// removeSuppression takes the address in the body: addresses never go in URLs.
func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in suppressionRequest
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	if err := s.Marketing.RemoveSuppression(r.Context(), p.TenantID, in.Email, in.Scope, nil); err != nil {
		return mk(err)
	}
	w.WriteHeader(204)
	return nil
}
