package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
)

// maxFormBytes caps an OAuth endpoint's form body before it is parsed.
const maxFormBytes = 16 << 10

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" // RFC 7523 2.2

func oauthProblem(status int, code, detail string) *Problem {
	p := problem(status, "OAuth error", detail)
	p.OAuthError, p.OAuthDescription = code, detail
	return p
}

func (s *Server) oauthError(r *http.Request, err error) error {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		status := 400
		if oe.Code == "invalid_client" {
			status = 401
			s.authFailed(r, "oauth_client", "refused", nil)
		}
		return oauthProblem(status, oe.Code, oe.Detail)
	}
	return err
}

// oauthForm parses an OAuth endpoint's application/x-www-form-urlencoded body.
func oauthForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, oauthProblem(400, "invalid_request", "send a POST with an application/x-www-form-urlencoded body")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, oauthProblem(400, "invalid_request", "the form body is malformed or larger than 16 KiB")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			// RFC 6749 3.1: parameters must not be repeated.
			return nil, oauthProblem(400, "invalid_request", "parameter "+truncateName(k)+" is repeated")
		}
	}
	return r.PostForm, nil
}

func truncateName(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}

// oauthClient authenticates the calling client by exactly one method (RFC 6749 2.3):
// client_secret_basic, client_secret_post or private_key_jwt.
func (s *Server) oauthClient(w http.ResponseWriter, r *http.Request, form url.Values) (*store.OAuthClient, error) {
	if s.OAuth == nil {
		return nil, problem(404, "Not found", "no such endpoint")
	}
	h := r.Header.Get("Authorization")
	if len(h) > maxAuthorizationBytes {
		return nil, oauthProblem(401, "invalid_client", "the Authorization field is too long")
	}
	var methods int
	if h != "" {
		methods++
	}
	if form.Has("client_secret") {
		methods++
	}
	if form.Has("client_assertion") {
		methods++
	}
	if methods != 1 {
		return nil, oauthProblem(401, "invalid_client", "authenticate the client by exactly one method: client_secret_basic, client_secret_post or private_key_jwt")
	}
	var c *store.OAuthClient
	var err error
	switch {
	case h != "":
		scheme, cred, _ := strings.Cut(h, " ")
		id, secret, ok := decodeBasic(strings.TrimSpace(cred))
		if !strings.EqualFold(scheme, "Basic") || !ok {
			return nil, oauthProblem(401, "invalid_client", "client_secret_basic needs Authorization: Basic <client id:secret>")
		}
		c, err = s.OAuth.AuthenticateSecret(r.Context(), id, secret)
	case form.Has("client_secret"):
		c, err = s.OAuth.AuthenticateSecret(r.Context(), form.Get("client_id"), form.Get("client_secret"))
	default:
		if form.Get("client_assertion_type") != assertionType {
			return nil, oauthProblem(401, "invalid_client", "client_assertion_type must be "+assertionType)
		}
		c, err = s.OAuth.AuthenticateAssertion(r.Context(), form.Get("client_assertion"))
		if err == nil && form.Has("client_id") && form.Get("client_id") != c.ID {
			err = &oauth.Error{Code: "invalid_client", Detail: "client_id does not match the client assertion"}
		}
	}
	if err != nil {
		return nil, s.oauthError(r, err)
	}
	// A client outside its networks gets no token (nor introspects or revokes), as its
	// tokens would be refused there anyway.
	if !tenant.AccessOf(c.Access).AllowsAddr(clientIP(r)) {
		s.authFailed(r, "oauth_client", "network", nil)
		return nil, oauthProblem(403, "unauthorized_client", networkDetail)
	}
	if rec, _ := r.Context().Value(auditKey{}).(*auditRecord); rec != nil {
		rec.principal = &tenant.Principal{KeyID: c.ID, TenantID: c.TenantID, Scopes: c.Scopes, Sandbox: c.Sandbox}
	}
	return c, nil
}

// token is the token endpoint (RFC 6749 4.4.2): the client credentials grant only.
func (s *Server) token(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	form, err := oauthForm(w, r)
	if err != nil {
		return err
	}
	c, err := s.oauthClient(w, r, form)
	if err != nil {
		return err
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		return oauthProblem(400, "unsupported_grant_type", "grant_type must be client_credentials")
	}
	tok, err := s.OAuth.Issue(r.Context(), c, form.Get("scope"))
	if err != nil {
		return s.oauthError(r, err)
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, 200, map[string]any{"access_token": tok.Token, "token_type": "Bearer",
		"expires_in": int(tok.ExpiresIn.Seconds()), "scope": strings.Join(tok.Scopes, " ")})
	return nil
}

// introspect is RFC 7662: a client may introspect its own tokens.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	form, err := oauthForm(w, r)
	if err != nil {
		return err
	}
	c, err := s.oauthClient(w, r, form)
	if err != nil {
		return err
	}
	out, err := s.OAuth.Introspect(r.Context(), c, form.Get("token"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

// revokeToken is RFC 7009: 200 whether or not the token was known (2.2).
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	form, err := oauthForm(w, r)
	if err != nil {
		return err
	}
	c, err := s.oauthClient(w, r, form)
	if err != nil {
		return err
	}
	if !form.Has("token") {
		return oauthProblem(400, "invalid_request", "token is required")
	}
	if err := s.OAuth.Revoke(r.Context(), c, form.Get("token")); err != nil {
		return err
	}
	w.WriteHeader(200)
	return nil
}

// oauthMetadata is RFC 8414 authorization server metadata.
func (s *Server) oauthMetadata(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	if s.OAuth == nil {
		return problem(404, "Not found", "no such endpoint")
	}
	iss := s.OAuth.Issuer()
	authMethods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
	algs := []string{"ES256", "ES384", "EdDSA", "RS256", "PS256"}
	writeJSON(w, 200, map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/oauth/token",
		"introspection_endpoint":                iss + "/oauth/introspect",
		"revocation_endpoint":                   iss + "/oauth/revoke",
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{},
		"scopes_supported":                      tenant.AllScopes,
		"token_endpoint_auth_methods_supported": authMethods,
		"token_endpoint_auth_signing_alg_values_supported":         algs,
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"introspection_endpoint_auth_signing_alg_values_supported": algs,
		"revocation_endpoint_auth_methods_supported":               authMethods,
		"revocation_endpoint_auth_signing_alg_values_supported":    algs,
	})
	return nil
}

// jwks publishes the key that signs JWT access tokens.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request, _ *tenant.Principal) error {
	if s.OAuth == nil {
		return problem(404, "Not found", "no such endpoint")
	}
	set, err := s.OAuth.JWKS(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.WriteHeader(200)
	return jsonEncode(w, set)
}

func jsonEncode(w http.ResponseWriter, v any) error {
	return json.NewEncoder(w).Encode(v)
}
