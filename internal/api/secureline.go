package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/quarantine"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/tenant"
)

// PolicyView is the tenant's policy document and its version (0: the default).
type PolicyView struct {
	Version int64            `json:"version"`
	Policy  *policy.Document `json:"policy"`
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	doc, v, err := s.Secure.Policy(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	if doc.Rules == nil {
		doc.Rules = []policy.Rule{}
	}
	writeJSON(w, 200, PolicyView{Version: v, Policy: doc})
	return nil
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var doc policy.Document
	if err := decodeJSON(body, &doc); err != nil {
		return err
	}
	v, err := s.Secure.SetPolicy(r.Context(), p.TenantID, &doc, nil)
	var inv policy.Invalid
	if errors.As(err, &inv) {
		pr := problem(422, "Invalid policy", inv.Error())
		for _, fe := range inv {
			pr.Errors = append(pr.Errors, FieldProblem{Field: fe.Field, Detail: fe.Detail})
		}
		return pr
	}
	if err != nil {
		return err
	}
	if doc.Rules == nil {
		doc.Rules = []policy.Rule{}
	}
	writeJSON(w, 200, PolicyView{Version: v, Policy: &doc})
	return nil
}

// previewPolicy answers what would happen to a draft — per recipient, the method and
// why — storing and sending nothing.
func (s *Server) previewPolicy(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readSized(r)
	if err != nil {
		return err
	}
	var req SendRequest
	if err := decodeLargeJSON(body, &req); err != nil {
		return err
	}
	if fp := attachFiles(&req, nil); len(fp) > 0 {
		return problem(400, "Invalid message", fp[0].Field+": "+fp[0].Detail, fp...)
	}
	sub, err := s.submission(r, p, &req, nil, "")
	if err != nil {
		return err
	}
	out, err := s.Pipeline.Preview(r.Context(), sub)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) listRecipientKeys(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	q := r.URL.Query()
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "an integer from 1 to 1000")
		}
		limit = n
	}
	// One more than the page tells whether another page follows; next_cursor is the
	// "after" of the next page.
	keys, err := s.Secure.Keys(r.Context(), p.TenantID, q.Get("email"), q.Get("after"), limit+1)
	if err != nil {
		return err
	}
	keys, pg := page(keys, limit, func(k *secureline.KeyInfo) string { return k.ID })
	out := map[string]any{"has_more": pg.HasMore, "keys": keys}
	if pg.HasMore {
		out["next_cursor"] = pg.NextCursor
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) addRecipientKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Email string `json:"email"`
		Type  string `json:"type"`
		Key   string `json:"key"` // armored OpenPGP public key or PEM certificate
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	info, err := s.Secure.AddKey(r.Context(), p.TenantID, req.Type, req.Email, []byte(req.Key), "api")
	var ke *secureline.KeyError
	if errors.As(err, &ke) {
		return problem(422, "Key not accepted", ke.Field+": "+ke.Msg, FieldProblem{Field: ke.Field, Detail: ke.Msg})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (s *Server) getRecipientKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	info, err := s.Secure.Key(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, info)
	return nil
}

func (s *Server) deleteRecipientKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Secure.DeleteKey(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// domainSecurity shows what a recipient domain's mail servers can receive. The facts
// are public (DNS and TLS), so any tenant may ask about any domain; each sees only
// probes it caused, never a result another tenant's mail left in the shared cache.
func (s *Server) domainSecurity(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	c, err := s.Secure.DomainSecurity(r.Context(), p.TenantID, r.PathValue("domain"))
	if err != nil {
		return problem(502, "Probe failed", "the domain's mail servers could not be probed: "+err.Error())
	}
	writeJSON(w, 200, c)
	return nil
}

// releaseMessage lets a quarantined message go, each recipient by the default secure
// methods.
func (s *Server) releaseMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.quarantineAction(w, r, p, "released", s.quarantine().Release)
}

// deleteMessage ends a quarantined message without delivery and purges its content.
func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.quarantineAction(w, r, p, "deleted", s.quarantine().Delete)
}

// quarantine is the service the dashboard's quarantine actions call too.
func (s *Server) quarantine() *quarantine.Service { return quarantine.New(s.DB, s.OnAccepted) }

func (s *Server) quarantineAction(w http.ResponseWriter, r *http.Request, p *tenant.Principal, event string, act func(context.Context, string, string) error) error {
	id := r.PathValue("id")
	err := act(r.Context(), p.TenantID, id)
	if errors.Is(err, quarantine.ErrNotQuarantined) {
		return problem(409, "Not quarantined", "only a quarantined message can be "+event)
	}
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"id": id, "status": event})
	return nil
}

func (s *Server) listSigningKeys(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	keys, err := s.Secure.SigningKeys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"keys": keys})
	return nil
}

// putSigningKey stores the account's own key for signing what it encrypts.
func (s *Server) putSigningKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		PrivateKey  string `json:"private_key"` // armored OpenPGP secret key, or PEM private key
		Passphrase  string `json:"passphrase"`  // OpenPGP only
		Certificate string `json:"certificate"` // S/MIME: PEM chain, leaf first
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.PrivateKey == "" {
		return badField("private_key", "required")
	}
	info, err := s.Secure.SetSigningKey(r.Context(), p.TenantID, r.PathValue("type"), []byte(req.PrivateKey), []byte(req.Passphrase), []byte(req.Certificate))
	var ke *secureline.KeyError
	if errors.As(err, &ke) {
		return problem(422, "Key not accepted", ke.Field+": "+ke.Msg, FieldProblem{Field: ke.Field, Detail: ke.Msg})
	}
	if err != nil {
		return err
	}
	writeJSON(w, 200, info)
	return nil
}

func (s *Server) deleteSigningKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Secure.DeleteSigningKey(r.Context(), p.TenantID, r.PathValue("type")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
