package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// InboundDomainView is a protected domain of the inbound gateway.
type InboundDomainView struct {
	ID               string    `json:"id"`
	Domain           string    `json:"domain"`
	SmartHost        string    `json:"smart_host"`
	DMARCAction      string    `json:"dmarc_action"`
	AttachmentAction string    `json:"attachment_action"`
	DLPAction        string    `json:"dlp_action"`
	CreatedAt        time.Time `json:"created_at"`
}

func inboundDomainView(d *store.InboundDomain) InboundDomainView {
	return InboundDomainView{ID: d.ID, Domain: d.Domain, SmartHost: d.SmartHost, DMARCAction: d.DMARCAction,
		AttachmentAction: d.AttachmentAction, DLPAction: d.DLPAction, CreatedAt: d.CreatedAt}
}

// InboundDomainRequest registers a protected domain.
type InboundDomainRequest struct {
	Domain           string `json:"domain"`
	SmartHost        string `json:"smart_host"`
	DMARCAction      string `json:"dmarc_action"`
	AttachmentAction string `json:"attachment_action"`
	DLPAction        string `json:"dlp_action"`
}

func (s *Server) inboundService() (*inbound.Service, error) {
	if s.Inbound == nil {
		return nil, problem(503, "Inbound gateway off", "this server runs no inbound gateway")
	}
	return s.Inbound, nil
}

func (s *Server) listInboundDomains(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	in, err := s.inboundService()
	if err != nil {
		return err
	}
	ds, err := in.Domains(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []InboundDomainView{}
	for _, d := range ds {
		out = append(out, inboundDomainView(d))
	}
	writeJSON(w, 200, map[string]any{"domains": out})
	return nil
}

func (s *Server) addInboundDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	in, err := s.inboundService()
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req InboundDomainRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	d, err := in.AddDomain(r.Context(), p.TenantID, inbound.DomainOptions{Domain: req.Domain, SmartHost: req.SmartHost,
		DMARC: req.DMARCAction, Attachments: req.AttachmentAction, DLP: req.DLPAction})
	if err != nil {
		return inboundProblem(err)
	}
	writeJSON(w, http.StatusCreated, inboundDomainView(d))
	return nil
}

// inboundProblem lists every invalid field at once.
func inboundProblem(err error) error {
	var fields []FieldProblem
	var one *inbound.InvalidError
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			if errors.As(e, &one) {
				fields = append(fields, FieldProblem{Field: one.Field, Detail: one.Msg})
			}
		}
	} else if errors.As(err, &one) {
		fields = append(fields, FieldProblem{Field: one.Field, Detail: one.Msg})
	}
	if len(fields) == 0 {
		return err
	}
	return problem(400, "Invalid request", fields[0].Field+": "+fields[0].Detail, fields...)
}

func (s *Server) deleteInboundDomain(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	in, err := s.inboundService()
	if err != nil {
		return err
	}
	if err := in.RemoveDomain(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listInboundMessages(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	in, err := s.inboundService()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var fields []FieldProblem
	status := q.Get("status")
	switch status {
	case "", store.InboundQueued, store.InboundQuarantined, store.InboundForwarded, store.InboundDeleted, store.InboundFailed:
	default:
		fields = append(fields, FieldProblem{Field: "status", Detail: "one of queued, quarantined, forwarded, deleted, failed"})
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			fields = append(fields, FieldProblem{Field: "limit", Detail: "a number from 1 to 500"})
		}
		limit = n
	}
	if len(fields) > 0 {
		return problem(400, "Invalid request", fields[0].Field+": "+fields[0].Detail, fields...)
	}
	ms, err := in.List(r.Context(), p.TenantID, status, q.Get("before"), limit)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []*inbound.Message{}
	}
	writeJSON(w, 200, map[string]any{"messages": ms})
	return nil
}

func (s *Server) getInboundMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	in, err := s.inboundService()
	if err != nil {
		return err
	}
	m, err := in.Get(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, m)
	return nil
}

func (s *Server) releaseInboundMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.inboundDecision(w, r, p, true)
}

func (s *Server) deleteInboundMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.inboundDecision(w, r, p, false)
}

func (s *Server) inboundDecision(w http.ResponseWriter, r *http.Request, p *tenant.Principal, release bool) error {
	in, err := s.inboundService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	act, status := in.Delete, store.InboundDeleted
	if release {
		act, status = in.Release, store.InboundQueued
	}
	err = act(r.Context(), p.TenantID, id, "key:"+p.KeyID, clientIP(r))
	if errors.Is(err, inbound.ErrNotHeld) {
		return problem(409, "Not quarantined", "only a message in quarantine can be released or deleted")
	}
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"id": id, "status": status})
	return nil
}
