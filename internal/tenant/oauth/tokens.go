package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Size caps, checked before anything is parsed.
const (
	MaxTokenBytes     = 4 << 10 // an access token presented to the API
	MaxAssertionBytes = 8 << 10 // a client assertion
	maxClientIDBytes  = 128
	maxSecretBytes    = 256
)

// Error is an OAuth error response (RFC 6749 5.2): Code is the registered code; Detail
// is safe to show. Failures that could tell whether a client exists share one Detail.
type Error struct {
	Code, Detail string
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// errClient is every failure before the caller has proved it holds the client's
// credential: unknown client, wrong secret, bad signature, revoked or expired client.
var errClient = &Error{"invalid_client", "client authentication failed"}

// ErrBadToken covers unknown, revoked and expired tokens alike.
var ErrBadToken = errors.New("invalid, expired or revoked access token")

// AuthenticateSecret checks a client id and secret (client_secret_basic or _post).
func (s *Service) AuthenticateSecret(ctx context.Context, id, secret string) (*store.OAuthClient, error) {
	if len(id) > maxClientIDBytes || len(secret) > maxSecretBytes || !strings.HasPrefix(id, "oac_") {
		return nil, errClient
	}
	c, err := s.db.OAuthClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errClient
	}
	if err != nil {
		return nil, err
	}
	if c.SecretHash == nil || subtle.ConstantTimeCompare(c.SecretHash, hashValue("client secret", secret)) != 1 || !s.live(c) {
		return nil, errClient
	}
	return c, nil
}

// assertionLeeway allows for clocks that differ a little; assertionMaxAge bounds how far
// ahead an assertion may expire, so its jti need not be remembered long.
const (
	assertionLeeway = 30 * time.Second
	assertionMaxAge = 10 * time.Minute
)

// AuthenticateAssertion checks a private_key_jwt client assertion (RFC 7523 3): signed
// by the client's registered key, iss = sub = client id, aud naming this token endpoint
// or issuer, unexpired, and a jti not seen before.
func (s *Service) AuthenticateAssertion(ctx context.Context, assertion string) (*store.OAuthClient, error) {
	if len(assertion) > MaxAssertionBytes {
		return nil, errClient
	}
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return nil, errClient
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || len(unverified.Subject) > maxClientIDBytes || !strings.HasPrefix(unverified.Subject, "oac_") {
		return nil, errClient
	}
	c, err := s.db.OAuthClient(ctx, unverified.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errClient
	}
	if err != nil {
		return nil, err
	}
	if c.PublicJWK == "" || !s.live(c) {
		return nil, errClient
	}
	key, err := parsePublicJWK(c.PublicJWK)
	if err != nil {
		return nil, errClient
	}
	var cl jwt.Claims
	if err := tok.Claims(key.Key, &cl); err != nil {
		return nil, errClient
	}
	// From here on the caller holds the client's key: saying what is wrong helps it and
	// tells an outsider nothing.
	now := s.now()
	if cl.Issuer != c.ID || cl.Subject != c.ID {
		return nil, &Error{"invalid_client", "the client assertion's iss and sub must both be the client id"}
	}
	if !slices.ContainsFunc(cl.Audience, func(a string) bool { return a == s.TokenEndpoint() || a == s.cfg.Issuer }) {
		return nil, &Error{"invalid_client", "the client assertion's audience must be " + s.TokenEndpoint()}
	}
	if cl.Expiry == nil {
		return nil, &Error{"invalid_client", "the client assertion has no exp"}
	}
	if err := cl.ValidateWithLeeway(jwt.Expected{Time: now}, assertionLeeway); err != nil {
		return nil, &Error{"invalid_client", "the client assertion has expired or is not yet valid"}
	}
	exp := cl.Expiry.Time()
	if exp.After(now.Add(assertionMaxAge)) {
		return nil, &Error{"invalid_client", "the client assertion must expire within 10 minutes"}
	}
	if cl.ID == "" || len(cl.ID) > 256 {
		return nil, &Error{"invalid_client", "the client assertion needs a jti"}
	}
	if err := s.db.UseAssertionID(ctx, c.ID, cl.ID, exp.Add(assertionLeeway), now); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &Error{"invalid_client", "the client assertion's jti was already used"}
		}
		return nil, err
	}
	return c, nil
}

// Issued is a new access token.
type Issued struct {
	Token     string
	ExpiresIn time.Duration
	Scopes    []string
}

// Issue makes an access token for an authenticated client. scope is the request's
// space-separated scope parameter ("" = every scope the client holds).
func (s *Service) Issue(ctx context.Context, c *store.OAuthClient, scope string) (*Issued, error) {
	scopes := c.Scopes
	if scope != "" {
		scopes = nil
		for _, sc := range strings.Fields(scope) {
			if !slices.Contains(c.Scopes, sc) && !slices.Contains(c.Scopes, tenant.ScopeAdmin) || !slices.Contains(tenant.AllScopes, sc) {
				return nil, &Error{"invalid_scope", "the client may not request scope " + truncate(sc, 32)}
			}
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	now := s.now()
	ttl := c.TokenTTL
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Sub(now) < ttl {
		ttl = c.ExpiresAt.Sub(now)
	}
	t := &store.OAuthToken{ID: tenant.NewID("tok"), ClientID: c.ID, TenantID: c.TenantID, Scopes: scopes, Sandbox: c.Sandbox,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	var value string
	if c.TokenFormat == FormatJWT {
		v, err := s.signAccessToken(ctx, t)
		if err != nil {
			return nil, err
		}
		value = v
	} else {
		value = "spat_" + base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32))
	}
	t.Hash = hashValue("access token", value)
	if err := s.db.CreateOAuthToken(ctx, t); err != nil {
		return nil, err
	}
	return &Issued{Token: value, ExpiresIn: ttl, Scopes: scopes}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// IsToken reports whether a bearer value has the shape of an access token this
// service issues (as opposed to an API key).
func IsToken(v string) bool {
	return strings.HasPrefix(v, "spat_") || strings.HasPrefix(v, "eyJ")
}

// lookup finds a live token by its value. A JWT's signature is checked first, so a
// forged one costs no database read.
func (s *Service) lookup(ctx context.Context, value string) (*store.OAuthToken, error) {
	if len(value) > MaxTokenBytes || !IsToken(value) {
		return nil, ErrBadToken
	}
	if strings.HasPrefix(value, "eyJ") {
		if err := s.verifyAccessToken(ctx, value); err != nil {
			return nil, ErrBadToken
		}
	}
	h := hashValue("access token", value)
	t, err := s.db.OAuthTokenByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(t.Hash, h) != 1 || !t.RevokedAt.IsZero() || !s.now().Before(t.ExpiresAt) {
		return nil, ErrBadToken
	}
	return t, nil
}

// Authenticate resolves an access token to the principal it acts as. Every request
// reads the token's row, so a revocation holds from the next request on, in every
// process.
func (s *Service) Authenticate(ctx context.Context, value string) (*tenant.Principal, error) {
	t, err := s.lookup(ctx, value)
	if err != nil {
		return nil, err
	}
	return &tenant.Principal{KeyID: t.ClientID, TenantID: t.TenantID, Scopes: t.Scopes, Sandbox: t.Sandbox, Access: tenant.AccessOf(t.ClientAccess)}, nil
}

// Introspection is an RFC 7662 2.2 response.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Jti       string `json:"jti,omitempty"`
}

// Introspect describes a token to the client it was issued to, and to no one else:
// another client learns only that it is not active (RFC 7662 2.2 allows this).
func (s *Service) Introspect(ctx context.Context, caller *store.OAuthClient, value string) (*Introspection, error) {
	t, err := s.lookup(ctx, value)
	if errors.Is(err, ErrBadToken) || (err == nil && t.ClientID != caller.ID) {
		return &Introspection{Active: false}, nil
	}
	if err != nil {
		return nil, err
	}
	return &Introspection{Active: true, Scope: strings.Join(t.Scopes, " "), ClientID: t.ClientID, TokenType: "Bearer",
		Exp: t.ExpiresAt.Unix(), Iat: t.CreatedAt.Unix(), Sub: t.ClientID, Iss: s.cfg.Issuer, Jti: t.ID}, nil
}

// Revoke revokes a token of the calling client (RFC 7009 2.1). Unknown tokens, and
// other clients' tokens, are ignored: the answer is the same (2.2).
func (s *Service) Revoke(ctx context.Context, caller *store.OAuthClient, value string) error {
	if len(value) > MaxTokenBytes {
		return nil
	}
	return s.db.RevokeOAuthToken(ctx, caller.ID, hashValue("access token", value), s.now())
}
