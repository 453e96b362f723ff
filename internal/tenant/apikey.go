package tenant

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
)

// Scopes an API key may hold.
const (
	ScopeSend      = "send"      // send messages
	ScopeRead      = "read"      // read messages and events
	ScopeTemplates = "templates" // manage templates
	ScopeAdmin     = "admin"     // everything, including domains and keys
	// Archive: search, view, export, holds and retention of the archive.
	ScopeArchive = "archive"
	// ScopeAudit reads the audit trail: what a compliance officer needs without admin.
	ScopeAudit = "audit"
	// Marketing: contacts, lists, topics, segments, consent, suppression.
	ScopeMarketing = "marketing"
	// Secure forms.
	ScopeForms = "forms" // manage forms and read their submissions
)

// AllScopes lists the valid scopes.
var AllScopes = []string{ScopeSend, ScopeRead, ScopeTemplates, ScopeAdmin, ScopeAudit, ScopeMarketing, ScopeForms, ScopeArchive}

// Principal is who a request acts as.
type Principal struct {
	KeyID    string
	TenantID string
	Scopes   []string
	Sandbox  bool
	Access   Access // the credential's own networks and rate limit
}

// Can reports whether the principal holds scope (admin holds all).
func (p *Principal) Can(scope string) bool {
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin)
}

// ErrBadCredentials covers unknown, revoked and expired keys alike: the caller learns
// only that the key does not work.
var ErrBadCredentials = errors.New("invalid, expired or revoked API key")

// KeyOptions describe a new API key.
type KeyOptions struct {
	Name    string
	Scopes  []string
	Sandbox bool
	Expires time.Time // zero: never
	Access  store.CredentialAccess
}

// CreateKey makes an API key and returns its secret, which is never stored or shown again.
func (s *Service) CreateKey(ctx context.Context, tenantID string, o KeyOptions) (string, *store.APIKey, error) {
	if len(o.Scopes) == 0 {
		return "", nil, invalid("an API key needs at least one scope")
	}
	for _, sc := range o.Scopes {
		if !slices.Contains(AllScopes, sc) {
			return "", nil, invalid("unknown scope %q (valid: %s)", sc, strings.Join(AllScopes, ", "))
		}
	}
	if !o.Expires.IsZero() && !o.Expires.After(s.now()) {
		return "", nil, invalid("expiry must be in the future")
	}
	access, err := CheckAccessError(o.Access)
	if err != nil {
		return "", nil, err
	}
	prefix := "sp_live_"
	if o.Sandbox {
		prefix = "sp_test_"
	}
	// 256 bits of randomness: a fast hash is the right way to store such a secret
	// (nothing to brute-force), and keeps authentication cheap on every request.
	secret := prefix + base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32))
	k := &store.APIKey{ID: NewID("key"), TenantID: tenantID, Name: o.Name, Hash: hashSecret(secret), Scopes: o.Scopes, Sandbox: o.Sandbox, CreatedAt: s.now(), ExpiresAt: o.Expires, Access: access}
	if err := s.db.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte("sealpost api key\x00" + secret))
	return h[:]
}

// Authenticate resolves a bearer secret to a principal.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, "sp_live_") && !strings.HasPrefix(secret, "sp_test_") {
		return nil, ErrBadCredentials
	}
	h := hashSecret(secret)
	now := s.now()
	p, ok, gen := s.auth.get(string(h), now)
	if ok {
		return p, nil
	}
	k, err := s.db.APIKeyByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(k.Hash, h) != 1 || !k.RevokedAt.IsZero() || (!k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)) {
		return nil, ErrBadCredentials
	}
	p = &Principal{KeyID: k.ID, TenantID: k.TenantID, Scopes: k.Scopes, Sandbox: k.Sandbox, Access: AccessOf(k.Access)}
	until := now.Add(authCacheTTL)
	if !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(until) {
		until = k.ExpiresAt
	}
	s.auth.put(string(h), p, until, gen)
	return p, nil
}

// RevokeKey revokes a key; tenantID "" matches any tenant (CLI).
func (s *Service) RevokeKey(ctx context.Context, tenantID, keyID string) error {
	if err := s.db.RevokeAPIKey(ctx, tenantID, keyID, s.now()); err != nil {
		return err
	}
	s.auth.dropKey(keyID)
	return nil
}

// authCacheTTL bounds how long another process may keep honouring a revoked key.
const authCacheTTL = 5 * time.Second

type authEntry struct {
	p     *Principal
	until time.Time
}

type authCache struct {
	mu sync.Mutex
	m  map[string]authEntry
	// gen counts revocations. A key read from the database before a revocation
	// returned must not be cached after it: that would honour the revoked key here
	// for another authCacheTTL, although revoking promises this process stops at once.
	gen uint64
}

// get returns a cached principal, or the generation a lookup that misses must hand
// to put.
func (c *authCache) get(h string, now time.Time) (*Principal, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[h]
	if !ok || !now.Before(e.until) {
		return nil, false, c.gen
	}
	return e.p, true, c.gen
}

// put caches p unless a key was revoked since the lookup that found it began.
func (c *authCache) put(h string, p *Principal, until time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[h] = authEntry{p, until}
}

func (c *authCache) dropKey(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.m {
		if e.p.KeyID == id {
			delete(c.m, h)
		}
	}
}
