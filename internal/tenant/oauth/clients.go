// Package oauth owns OAuth 2.0 client credentials (RFC 6749 4.4): clients with the
// scopes, expiry, sandbox flag and tenant of an API key, and the access tokens issued to
// them — opaque and hashed at rest, or RFC 9068 JWTs — with introspection (RFC 7662) and
// revocation (RFC 7009).
package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Token formats a client may be issued.
const (
	FormatOpaque = "opaque"
	FormatJWT    = "jwt"
)

// Token lifetimes: short by default, so a leaked token is worth little.
const (
	DefaultTokenTTL = 15 * time.Minute
	MaxTokenTTL     = 24 * time.Hour
)

// Config is the service's configuration.
type Config struct {
	// Issuer is this authorization server's identifier (RFC 8414 2), an https URL
	// without query; the token endpoint is Issuer + "/oauth/token".
	Issuer string
}

// Service manages clients and tokens.
type Service struct {
	db      *store.DB
	ring    *seal.Keyring
	tenants *tenant.Service
	cfg     Config
	skew    atomic.Int64 // nanoseconds added to the clock (tests of expiry)

	mu  sync.Mutex
	jwk *jose.JSONWebKey // private signing key, loaded once
}

// New builds the service. tenants seals the HMAC secrets of request-signing keys.
func New(db *store.DB, ring *seal.Keyring, tenants *tenant.Service, cfg Config) *Service {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	return &Service{db: db, ring: ring, tenants: tenants, cfg: cfg}
}

// Skew moves the service's clock by d (tests of expiry); safe while serving.
func (s *Service) Skew(d time.Duration) { s.skew.Store(int64(d)) }

func (s *Service) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }

// Issuer is the configured issuer.
func (s *Service) Issuer() string { return s.cfg.Issuer }

// TokenEndpoint is the URL client assertions must name as their audience.
func (s *Service) TokenEndpoint() string { return s.cfg.Issuer + "/oauth/token" }

// ClientOptions describe a new client.
type ClientOptions struct {
	Name        string
	Scopes      []string
	Sandbox     bool
	Expires     time.Time     // zero: never
	TokenFormat string        // "" = opaque
	TokenTTL    time.Duration // 0 = DefaultTokenTTL
	// PublicJWK, when set, lets the client authenticate with private_key_jwt (RFC
	// 7523) signed by the matching private key. NoSecret then issues no secret.
	PublicJWK string
	NoSecret  bool
	Access    store.CredentialAccess // networks and rate limit of the client and its tokens
}

// InvalidError is a request the caller can fix.
type InvalidError = tenant.InvalidError

func invalid(field, msg string) error { return &InvalidError{Msg: field + ": " + msg} }

// assertionAlgs are the signature algorithms accepted for client assertions.
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA, jose.RS256, jose.PS256}

// CreateClient makes a client and returns its secret, which is never stored or shown
// again ("" when the client has none).
func (s *Service) CreateClient(ctx context.Context, tenantID string, o ClientOptions) (string, *store.OAuthClient, error) {
	if len(o.Scopes) == 0 {
		return "", nil, invalid("scopes", "a client needs at least one scope")
	}
	for _, sc := range o.Scopes {
		if !slices.Contains(tenant.AllScopes, sc) {
			return "", nil, invalid("scopes", "unknown scope "+sc+" (valid: "+strings.Join(tenant.AllScopes, ", ")+")")
		}
	}
	if !o.Expires.IsZero() && !o.Expires.After(s.now()) {
		return "", nil, invalid("expires_at", "must be in the future")
	}
	if o.TokenFormat == "" {
		o.TokenFormat = FormatOpaque
	}
	if o.TokenFormat != FormatOpaque && o.TokenFormat != FormatJWT {
		return "", nil, invalid("token_format", "must be opaque or jwt")
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.TokenTTL < time.Minute || o.TokenTTL > MaxTokenTTL {
		return "", nil, invalid("token_ttl", "must be between 60 and 86400 seconds")
	}
	if o.PublicJWK != "" {
		k, err := parsePublicJWK(o.PublicJWK)
		if err != nil {
			return "", nil, invalid("public_jwk", err.Error())
		}
		b, _ := json.Marshal(k)
		o.PublicJWK = string(b)
	}
	if o.NoSecret && o.PublicJWK == "" {
		return "", nil, invalid("public_jwk", "a client without a secret needs a public key")
	}
	access, err := tenant.CheckAccessError(o.Access)
	if err != nil {
		return "", nil, err
	}
	c := &store.OAuthClient{ID: tenant.NewID("oac"), TenantID: tenantID, Name: o.Name, PublicJWK: o.PublicJWK, Scopes: o.Scopes,
		Sandbox: o.Sandbox, TokenFormat: o.TokenFormat, TokenTTL: o.TokenTTL, CreatedAt: s.now(), ExpiresAt: o.Expires, Access: access}
	var secret string
	if !o.NoSecret {
		// 256 random bits: a fast hash suffices (nothing to brute-force).
		secret = "spcs_" + base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32))
		c.SecretHash = hashValue("client secret", secret)
	}
	if err := s.db.CreateOAuthClient(ctx, c); err != nil {
		return "", nil, err
	}
	return secret, c, nil
}

// parsePublicJWK accepts one public key of a type the assertion algorithms cover.
func parsePublicJWK(s string) (*jose.JSONWebKey, error) {
	if len(s) > 8<<10 {
		return nil, errors.New("longer than 8 KiB")
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(s)); err != nil {
		return nil, errors.New("not a JSON Web Key")
	}
	if !k.Valid() || !k.IsPublic() {
		return nil, errors.New("must be a valid public key (no private part)")
	}
	return &k, nil
}

// Clients lists a tenant's clients ("" = every tenant: CLI use).
func (s *Service) Clients(ctx context.Context, tenantID string) ([]*store.OAuthClient, error) {
	return s.db.OAuthClients(ctx, tenantID)
}

// RevokeClient revokes a client and every token it holds, at once.
func (s *Service) RevokeClient(ctx context.Context, tenantID, id string) error {
	return s.db.RevokeOAuthClient(ctx, tenantID, id, s.now())
}

func hashValue(purpose, v string) []byte {
	h := sha256.Sum256([]byte("sealpost " + purpose + "\x00" + v))
	return h[:]
}

func (s *Service) live(c *store.OAuthClient) bool {
	return c.RevokedAt.IsZero() && (c.ExpiresAt.IsZero() || s.now().Before(c.ExpiresAt))
}
