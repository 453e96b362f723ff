package oauth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/httpsig"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Signed requests (RFC 9421): a client registers Ed25519 or HMAC keys, opens a
// session with a signed request, and signs every request under it.
const (
	// SignatureWindow is how old a signature's created time may be (and how long its
	// nonce is remembered).
	SignatureWindow = 5 * time.Minute
	// signatureSkew allows a client clock a little ahead of ours.
	signatureSkew = 30 * time.Second
	// SessionTTL is how long a session lasts unless revoked.
	SessionTTL = 8 * time.Hour
	// SessionHeader names the session a signed request acts under; it must be covered.
	SessionHeader = "Sealpost-Session"
)

// Signature key algorithms.
const (
	AlgEd25519 = "ed25519"
	AlgHMAC    = "hmac-sha256"
)

// AddSignatureKey registers a request-signing key on a client of the tenant. For
// ed25519 the caller gives the public key (32 bytes); for hmac-sha256 the service makes
// a 256-bit secret and returns it, base64, once (it is stored sealed, not hashed: the
// server must compute the same MAC).
func (s *Service) AddSignatureKey(ctx context.Context, tenantID, clientID, alg string, publicKey []byte) (*store.SignatureKey, string, error) {
	c, err := s.db.OAuthClient(ctx, clientID)
	if err != nil {
		return nil, "", err
	}
	if c.TenantID != tenantID {
		return nil, "", store.ErrNotFound
	}
	if !s.live(c) {
		return nil, "", invalid("client", "the client is revoked or expired")
	}
	k := &store.SignatureKey{ID: tenant.NewID("sk"), ClientID: c.ID, TenantID: c.TenantID, Alg: alg, CreatedAt: s.now()}
	var secret string
	switch alg {
	case AlgEd25519:
		if len(publicKey) != ed25519.PublicKeySize {
			return nil, "", invalid("public_key", "an ed25519 public key is 32 bytes (base64)")
		}
		k.PublicKey = publicKey
	case AlgHMAC:
		if publicKey != nil {
			return nil, "", invalid("public_key", "an hmac-sha256 key is made by the server; send no public_key")
		}
		raw := seal.RandomBytes(32)
		keys, err := s.tenants.Keys(ctx, tenantID)
		if err != nil {
			return nil, "", err
		}
		k.Secret = keys.Data.Seal(raw, "signature-key/"+k.ID)
		secret = base64.StdEncoding.EncodeToString(raw)
	default:
		return nil, "", invalid("alg", "must be ed25519 or hmac-sha256")
	}
	if err := s.db.AddSignatureKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// errSignature is every failure that could tell whether a key exists.
var errSignature = &httpsig.Error{Reason: "the signature does not verify with a registered key"}

// SignedRequest is a verified signed request.
type SignedRequest struct {
	Principal *tenant.Principal
	KeyID     string
	Session   string // "" when the request names no session
}

// VerifyRequest checks a signed request: the signature must cover @method, @target-uri,
// content-digest (when there is a body) and the session header (when present), carry a
// keyid, a nonce and a created time within the window; the key must be live; the body
// must match its digest; the nonce must be new; the session, if named, must be live and
// the client's. Reasons are given, except those that would tell whether a key exists.
func (s *Service) VerifyRequest(ctx context.Context, r *http.Request, targetURI string, body []byte) (*SignedRequest, error) {
	sig, err := httpsig.Parse(r.Header, "")
	if err != nil {
		return nil, err
	}
	need := []string{"@method", "@target-uri"}
	if len(body) > 0 || r.Header.Get("Content-Digest") != "" {
		need = append(need, "content-digest")
	}
	if r.Header.Get(SessionHeader) != "" {
		need = append(need, "sealpost-session")
	}
	for _, c := range need {
		if !sig.Covers(c) {
			return nil, &httpsig.Error{Reason: "the signature must cover " + c}
		}
	}
	if sig.KeyID == "" || sig.Nonce == "" || sig.Created.IsZero() {
		return nil, &httpsig.Error{Reason: "the signature needs keyid, nonce and created parameters"}
	}
	now := s.now()
	if sig.Created.Before(now.Add(-SignatureWindow)) || sig.Created.After(now.Add(signatureSkew)) {
		return nil, &httpsig.Error{Reason: "the signature's created time is outside the 5-minute window"}
	}
	if !sig.Expires.IsZero() && !now.Before(sig.Expires) {
		return nil, &httpsig.Error{Reason: "the signature has expired"}
	}
	k, err := s.db.SignatureKey(ctx, sig.KeyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSignature
	}
	if err != nil {
		return nil, err
	}
	c, err := s.db.OAuthClient(ctx, k.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSignature
	}
	if err != nil {
		return nil, err
	}
	if !k.RevokedAt.IsZero() || !s.live(c) {
		return nil, errSignature
	}
	var key httpsig.Key
	switch k.Alg {
	case AlgEd25519:
		key = httpsig.Ed25519Key(k.PublicKey)
	case AlgHMAC:
		keys, err := s.tenants.Keys(ctx, k.TenantID)
		if err != nil {
			return nil, err
		}
		raw, err := keys.Data.Open(k.Secret, "signature-key/"+k.ID)
		if err != nil {
			return nil, err
		}
		key = httpsig.HMACKey(raw)
	default:
		return nil, errSignature
	}
	if err := httpsig.Verify(r, targetURI, sig, key); err != nil {
		var he *httpsig.Error
		if errors.As(err, &he) && he.Reason != "the signature does not verify" {
			return nil, err // a malformed request, not a wrong key
		}
		return nil, errSignature
	}
	// The caller holds the key from here on.
	if len(body) > 0 || r.Header.Get("Content-Digest") != "" {
		if err := httpsig.CheckDigest(r.Header, body); err != nil {
			return nil, err
		}
	}
	if err := s.db.UseNonce(ctx, k.ID, sig.Nonce, sig.Created.Add(SignatureWindow+signatureSkew), now); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &httpsig.Error{Reason: "the signature's nonce was already used"}
		}
		return nil, err
	}
	out := &SignedRequest{Principal: &tenant.Principal{KeyID: c.ID, TenantID: c.TenantID, Scopes: c.Scopes, Sandbox: c.Sandbox, Access: tenant.AccessOf(c.Access)}, KeyID: k.ID}
	if id := r.Header.Get(SessionHeader); id != "" {
		sess, err := s.db.AccessSession(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if sess == nil || sess.ClientID != c.ID || !sess.RevokedAt.IsZero() || !now.Before(sess.ExpiresAt) {
			return nil, &httpsig.Error{Reason: "the session is revoked, expired or not this client's"}
		}
		out.Session = sess.ID
	}
	return out, nil
}

// OpenSession starts a session for a verified signed request.
func (s *Service) OpenSession(ctx context.Context, v *SignedRequest) (*store.AccessSession, error) {
	now := s.now()
	sess := &store.AccessSession{ID: tenant.NewID("ses"), ClientID: v.Principal.KeyID, TenantID: v.Principal.TenantID, KeyID: v.KeyID,
		CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.db.CreateAccessSession(ctx, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// Sessions lists a tenant's sessions, newest first ("" = every tenant: CLI use).
func (s *Service) Sessions(ctx context.Context, tenantID string) ([]*store.AccessSession, error) {
	return s.db.AccessSessions(ctx, tenantID, 500)
}

// RevokeSession ends one session; the next request under it is refused.
func (s *Service) RevokeSession(ctx context.Context, tenantID, id string) error {
	_, err := s.db.RevokeAccessSessions(ctx, tenantID, id, "", s.now())
	return err
}

// RevokeClientSessions ends every live session of a client of the tenant ("" = any
// tenant) and returns how many.
func (s *Service) RevokeClientSessions(ctx context.Context, tenantID, clientID string) (int64, error) {
	c, err := s.db.OAuthClient(ctx, clientID)
	if err != nil {
		return 0, err
	}
	if tenantID != "" && c.TenantID != tenantID {
		return 0, store.ErrNotFound
	}
	n, err := s.db.RevokeAccessSessions(ctx, c.TenantID, "", c.ID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return n, err
}
