package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// signingKeyLabel binds a wrapped signing key to its use; tenant ids never take this form.
const signingKeyLabel = "oauth-access-token-signing"

// signingKey returns the server's ES256 key for JWT access tokens, creating it on first
// use. It lives in the database, wrapped by the master key, so every process signs with
// the same key and publishes the same JWKS. Two processes creating one at once both
// settle on the oldest.
func (s *Service) signingKey(ctx context.Context) (*jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jwk != nil {
		return s.jwk, nil
	}
	keys, err := s.db.OAuthSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		mid, wrapped := s.ring.Wrap(der, signingKeyLabel)
		if err := s.db.AddOAuthSigningKey(ctx, &store.OAuthSigningKey{ID: tenant.NewID("jwk"), MasterID: mid, Wrapped: wrapped, CreatedAt: s.now()}); err != nil {
			return nil, err
		}
		if keys, err = s.db.OAuthSigningKeys(ctx); err != nil {
			return nil, err
		}
	}
	k := keys[0]
	der, err := s.ring.Unwrap(k.MasterID, k.Wrapped, signingKeyLabel)
	if err != nil {
		return nil, fmt.Errorf("oauth signing key: %w", err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("oauth signing key: %w", err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("oauth signing key: not an ECDSA key")
	}
	s.jwk = &jose.JSONWebKey{Key: ec, KeyID: k.ID, Algorithm: string(jose.ES256), Use: "sig"}
	return s.jwk, nil
}

// JWKS is the public key set published at /.well-known/jwks.json.
func (s *Service) JWKS(ctx context.Context) (*jose.JSONWebKeySet, error) {
	k, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}}, nil
}

// atClaims are an RFC 9068 2.2 access token's claims.
type atClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// audience is what JWT access tokens name as their resource: this server's API.
func (s *Service) audience() string { return s.cfg.Issuer + "/v1" }

func (s *Service) signAccessToken(ctx context.Context, t *store.OAuthToken) (string, error) {
	k, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	// RFC 9068 2.1: typ "at+jwt".
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return "", err
	}
	c := atClaims{Claims: jwt.Claims{Issuer: s.cfg.Issuer, Subject: t.ClientID, Audience: jwt.Audience{s.audience()}, ID: t.ID,
		IssuedAt: jwt.NewNumericDate(t.CreatedAt), Expiry: jwt.NewNumericDate(t.ExpiresAt)}, ClientID: t.ClientID, Scope: strings.Join(t.Scopes, " ")}
	return jwt.Signed(sig).Claims(c).Serialize()
}

// verifyAccessToken checks a JWT access token's type, signature, issuer and audience.
// Expiry and revocation are the database row's to decide.
func (s *Service) verifyAccessToken(ctx context.Context, value string) error {
	tok, err := jwt.ParseSigned(value, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(tok.Headers) != 1 {
		return ErrBadToken
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return ErrBadToken
	}
	k, err := s.signingKey(ctx)
	if err != nil {
		return err
	}
	var c atClaims
	if err := tok.Claims(k.Public().Key, &c); err != nil {
		return ErrBadToken
	}
	if c.Issuer != s.cfg.Issuer || !c.Audience.Contains(s.audience()) {
		return ErrBadToken
	}
	return nil
}
