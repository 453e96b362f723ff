package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/tenant"
)

// SMTPCredentialView describes an SMTP credential; the password appears only in the
// response that created it.
type SMTPCredentialView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Username  string     `json:"username"`
	Scopes    []string   `json:"scopes"`
	Sandbox   bool       `json:"sandbox"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Password  string     `json:"password,omitempty"`
}

func (s *Server) listSMTPCredentials(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	cs, err := s.Tenants.SMTPCredentials(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []SMTPCredentialView{}
	for _, c := range cs {
		out = append(out, SMTPCredentialView{ID: c.ID, Name: c.Name, Username: c.Username, Scopes: c.Scopes, Sandbox: c.Sandbox,
			CreatedAt: c.CreatedAt, ExpiresAt: timePtr(c.ExpiresAt), RevokedAt: timePtr(c.RevokedAt)})
	}
	writeJSON(w, 200, map[string]any{"credentials": out})
	return nil
}

func (s *Server) createSMTPCredential(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		Sandbox   bool       `json:"sandbox"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	o := tenant.SMTPCredentialOptions{Name: req.Name, Scopes: req.Scopes, Sandbox: req.Sandbox}
	if req.ExpiresAt != nil {
		o.Expires = *req.ExpiresAt
	}
	pass, c, err := s.Tenants.CreateSMTPCredential(r.Context(), p.TenantID, o)
	if errors.As(err, new(*tenant.InvalidError)) {
		return badField("scopes", "%s", err.Error())
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SMTPCredentialView{ID: c.ID, Name: c.Name, Username: c.Username, Scopes: c.Scopes, Sandbox: c.Sandbox,
		CreatedAt: c.CreatedAt, ExpiresAt: timePtr(c.ExpiresAt), Password: pass})
	return nil
}

func (s *Server) revokeSMTPCredential(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Tenants.RevokeSMTPCredential(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RelayProofView is a proof the relay listener accepts for one of the tenant's domains.
type RelayProofView struct {
	ID        string    `json:"id"`
	Domain    string    `json:"domain"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) listRelayProofs(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ps, err := s.Tenants.RelayProofs(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []RelayProofView{}
	for _, x := range ps {
		out = append(out, RelayProofView{ID: x.ID, Domain: x.Domain, Kind: x.Kind, Value: x.Value, CreatedAt: x.CreatedAt})
	}
	writeJSON(w, 200, map[string]any{"proofs": out})
	return nil
}

func (s *Server) addRelayProof(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Domain string `json:"domain"`
		Kind   string `json:"kind"`
		Value  string `json:"value"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	x, err := s.Tenants.AddRelayProof(r.Context(), p.TenantID, req.Domain, req.Kind, req.Value)
	var inv *tenant.InvalidError
	if errors.As(err, &inv) {
		field := "value"
		if strings.Contains(inv.Msg, "domain") {
			field = "domain"
		} else if strings.HasPrefix(inv.Msg, "kind") {
			field = "kind"
		}
		return badField(field, "%s", inv.Msg)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, RelayProofView{ID: x.ID, Domain: x.Domain, Kind: x.Kind, Value: x.Value, CreatedAt: x.CreatedAt})
	return nil
}

func (s *Server) deleteRelayProof(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Tenants.DeleteRelayProof(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
