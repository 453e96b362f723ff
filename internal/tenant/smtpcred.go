package tenant

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
)

// SMTP credentials are API keys in the shape SMTP AUTH expects: a username to find the
// record and a password to prove it. Both are generated; the password is 256 random
// bits, stored as a hash and shown once. They carry the same scopes as API keys (only
// "send" and "admin" let a session submit) and are revoked the same way.

// SMTPCredentialOptions describe a new SMTP credential.
type SMTPCredentialOptions struct {
	Name    string
	Scopes  []string // default: send
	Sandbox bool
	Expires time.Time // zero: never
}

// CreateSMTPCredential makes a credential and returns its password, which is never
// stored or shown again.
func (s *Service) CreateSMTPCredential(ctx context.Context, tenantID string, o SMTPCredentialOptions) (string, *store.SMTPCredential, error) {
	if len(o.Scopes) == 0 {
		o.Scopes = []string{ScopeSend}
	}
	for _, sc := range o.Scopes {
		if !slices.Contains(AllScopes, sc) {
			return "", nil, invalid("unknown scope %q (valid: %s)", sc, strings.Join(AllScopes, ", "))
		}
	}
	if !o.Expires.IsZero() && !o.Expires.After(s.now()) {
		return "", nil, invalid("expiry must be in the future")
	}
	prefix := "smtp_"
	if o.Sandbox {
		prefix = "smtp_test_"
	}
	// The username is random too: it names no person and cannot be guessed from the
	// tenant, so a lockout on it cannot be aimed at a colleague's credential.
	username := prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seal.RandomBytes(10)))
	// Lower-case base32 (a–z, 2–7): no character a mail client's configuration or a
	// command line reads specially — a base64url password starting with "-" was taken
	// for an option by swaks.
	password := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seal.RandomBytes(32)))
	c := &store.SMTPCredential{ID: NewID("smc"), TenantID: tenantID, Name: o.Name, Username: username, Hash: hashSMTPPassword(password),
		Scopes: o.Scopes, Sandbox: o.Sandbox, CreatedAt: s.now(), ExpiresAt: o.Expires}
	if err := s.db.CreateSMTPCredential(ctx, c); err != nil {
		return "", nil, err
	}
	return password, c, nil
}

func hashSMTPPassword(password string) []byte {
	h := sha256.Sum256([]byte("sealpost smtp credential\x00" + password))
	return h[:]
}

// ErrBadSMTPCredentials covers unknown usernames, wrong passwords, revoked and expired
// credentials alike.
var ErrBadSMTPCredentials = errors.New("invalid, expired or revoked SMTP credentials")

// AuthenticateSMTP resolves a username and password to a principal. Unknown usernames
// cost the same hash and comparison as known ones.
func (s *Service) AuthenticateSMTP(ctx context.Context, username, password string) (*Principal, error) {
	h := hashSMTPPassword(password)
	c, err := s.db.SMTPCredentialByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		subtle.ConstantTimeCompare(h, make([]byte, len(h)))
		return nil, ErrBadSMTPCredentials
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if subtle.ConstantTimeCompare(c.Hash, h) != 1 || !c.RevokedAt.IsZero() || (!c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)) {
		return nil, ErrBadSMTPCredentials
	}
	return &Principal{KeyID: c.ID, TenantID: c.TenantID, Scopes: c.Scopes, Sandbox: c.Sandbox}, nil
}

// SMTPCredentials lists a tenant's credentials.
func (s *Service) SMTPCredentials(ctx context.Context, tenantID string) ([]*store.SMTPCredential, error) {
	return s.db.SMTPCredentials(ctx, tenantID)
}

// RevokeSMTPCredential revokes a credential; tenantID "" matches any tenant (CLI). The
// next AUTH with it fails in every process: nothing caches credentials.
func (s *Service) RevokeSMTPCredential(ctx context.Context, tenantID, id string) error {
	return s.db.RevokeSMTPCredential(ctx, tenantID, id, s.now())
}
