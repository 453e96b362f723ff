package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// KeyView describes an API key; the secret appears only in the response that created it.
type KeyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	Sandbox   bool       `json:"sandbox"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// The networks the key may be used from (absent: any) and its own rate limit
	// (absent: the server's default).
	AllowedNetworks []string       `json:"allowed_networks,omitempty"`
	RateLimit       *RateLimitView `json:"rate_limit,omitempty"`
	Secret          string         `json:"secret,omitempty"`
}

func keyView(k *store.APIKey) KeyView {
	v := KeyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Sandbox: k.Sandbox, CreatedAt: k.CreatedAt, ExpiresAt: timePtr(k.ExpiresAt), RevokedAt: timePtr(k.RevokedAt)}
	v.AllowedNetworks, v.RateLimit = accessView(k.Access)
	return v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	ks, err := s.DB.APIKeys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []KeyView{}
	for _, k := range ks {
		out = append(out, keyView(k))
	}
	writeJSON(w, 200, map[string]any{"keys": out})
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		Sandbox   bool       `json:"sandbox"`
		ExpiresAt *time.Time `json:"expires_at"`

		AllowedNetworks []string       `json:"allowed_networks"`
		RateLimit       *RateLimitView `json:"rate_limit"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	access, err := credentialAccess(req.AllowedNetworks, req.RateLimit)
	if err != nil {
		return err
	}
	o := tenant.KeyOptions{Name: req.Name, Scopes: req.Scopes, Sandbox: req.Sandbox, Access: access}
	if req.ExpiresAt != nil {
		o.Expires = *req.ExpiresAt
	}
	secret, k, err := s.Tenants.CreateKey(r.Context(), p.TenantID, o)
	if errors.As(err, new(*tenant.InvalidError)) {
		return badField("scopes", "%s", err.Error())
	}
	if err != nil {
		return err
	}
	v := keyView(k)
	v.Secret = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Tenants.RevokeKey(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
