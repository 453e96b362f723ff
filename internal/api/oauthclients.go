package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
)

// OAuthClientView describes an OAuth client; the secret appears only in the response
// that created it.
type OAuthClientView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Scopes      []string   `json:"scopes"`
	Sandbox     bool       `json:"sandbox"`
	TokenFormat string     `json:"token_format"`
	TokenTTL    int        `json:"token_ttl"`
	AuthMethods []string   `json:"auth_methods"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// The networks the client and its tokens may be used from (absent: any) and its
	// own rate limit (absent: the server's default).
	AllowedNetworks []string       `json:"allowed_networks,omitempty"`
	RateLimit       *RateLimitView `json:"rate_limit,omitempty"`
	Secret          string         `json:"client_secret,omitempty"`
}

func oauthClientView(c *store.OAuthClient) OAuthClientView {
	v := OAuthClientView{ID: c.ID, Name: c.Name, Scopes: c.Scopes, Sandbox: c.Sandbox, TokenFormat: c.TokenFormat, TokenTTL: int(c.TokenTTL / time.Second),
		AuthMethods: []string{}, CreatedAt: c.CreatedAt, ExpiresAt: timePtr(c.ExpiresAt), RevokedAt: timePtr(c.RevokedAt)}
	v.AllowedNetworks, v.RateLimit = accessView(c.Access)
	if c.SecretHash != nil {
		v.AuthMethods = append(v.AuthMethods, "client_secret_basic", "client_secret_post")
	}
	if c.PublicJWK != "" {
		v.AuthMethods = append(v.AuthMethods, "private_key_jwt")
	}
	return v
}

func (s *Server) listOAuthClients(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	cs, err := s.OAuth.Clients(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	out := []OAuthClientView{}
	for _, c := range cs {
		out = append(out, oauthClientView(c))
	}
	writeJSON(w, 200, map[string]any{"clients": out})
	return nil
}

func (s *Server) createOAuthClient(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req struct {
		Name        string         `json:"name"`
		Scopes      []string       `json:"scopes"`
		Sandbox     bool           `json:"sandbox"`
		ExpiresAt   *time.Time     `json:"expires_at"`
		TokenFormat string         `json:"token_format"`
		TokenTTL    int            `json:"token_ttl"`
		PublicJWK   map[string]any `json:"public_jwk"`
		NoSecret    bool           `json:"no_secret"`

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
	o := oauth.ClientOptions{Name: req.Name, Scopes: req.Scopes, Sandbox: req.Sandbox, TokenFormat: req.TokenFormat,
		TokenTTL: time.Duration(req.TokenTTL) * time.Second, NoSecret: req.NoSecret, Access: access}
	if req.ExpiresAt != nil {
		o.Expires = *req.ExpiresAt
	}
	if req.PublicJWK != nil {
		b, _ := json.Marshal(req.PublicJWK)
		o.PublicJWK = string(b)
	}
	secret, c, err := s.OAuth.CreateClient(r.Context(), p.TenantID, o)
	var inv *tenant.InvalidError
	if errors.As(err, &inv) {
		return invalidField(inv)
	}
	if err != nil {
		return err
	}
	v := oauthClientView(c)
	v.Secret = secret
	w.Header().Set("Location", "/v1/oauth-clients/"+c.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) revokeOAuthClient(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.OAuth.RevokeClient(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// invalidField turns the service's "field: detail" refusal into a field problem.
func invalidField(inv *tenant.InvalidError) error {
	field, detail, _ := strings.Cut(inv.Msg, ": ")
	return badField(field, "%s", detail)
}
