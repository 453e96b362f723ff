package secureline

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"html"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// PortalHooks are what the portal decides for SecureLine: each tenant's expiry bounds
// and the notice a portal recipient receives.
type PortalHooks interface {
	// Expiry is how long a copy stays readable when the sender asked for requested
	// (0: the tenant's default); an error when requested is outside the tenant's bounds.
	Expiry(ctx context.Context, tenantID string, requested time.Duration) (time.Duration, error)
	// Notification builds the notice: the organisation, a neutral subject, the link.
	Notification(ctx context.Context, n *Notice) ([]byte, error)
}

// Notice is what a portal notification may say: nothing of the message itself.
type Notice struct {
	TenantID, From, To, Link string
	ExpiresAt                time.Time
}

// SetPortal connects the portal (it is built after SecureLine, which it uses).
func (s *Service) SetPortal(h PortalHooks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.portal = h
}

func (s *Service) hooks() PortalHooks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.portal
}

// PortalExpiry is how long a tenant's copy stays readable for a sender's request
// (0: the default); an error names a request outside the tenant's bounds.
func (s *Service) PortalExpiry(ctx context.Context, tenantID string, requested time.Duration) (time.Duration, error) {
	if h := s.hooks(); h != nil {
		return h.Expiry(ctx, tenantID, requested)
	}
	if requested > 0 {
		return requested, nil
	}
	return s.cfg.PortalExpiry, nil
}

func (s *Service) notice(ctx context.Context, n *Notice) ([]byte, error) {
	if h := s.hooks(); h != nil {
		return h.Notification(ctx, n)
	}
	t, err := s.tenants.Tenant(ctx, n.TenantID)
	if err != nil {
		return nil, err
	}
	return DefaultNotification(t.Name, n, s.now())
}

// DefaultNotification is the notice when a tenant has not written its own: the
// sending organisation, a neutral subject and the link.
func DefaultNotification(org string, n *Notice, now time.Time) ([]byte, error) {
	until := n.ExpiresAt.UTC().Format("2 January 2006")
	return NoticeMessage(org, n, now, "You have a secure message from "+org,
		"You have received a secure message from "+org+".\r\n\r\n"+
			"To read it, open this link and confirm your email address with a one-time code:\r\n\r\n"+
			n.Link+"\r\n\r\nThe message is available until "+until+". If you did not expect it, you can ignore this email.\r\n",
		"<p>You have received a secure message from <strong>"+html.EscapeString(org)+"</strong>.</p>"+
			"<p><a href=\""+html.EscapeString(n.Link)+"\">Read the secure message</a></p>"+
			"<p>You will confirm your email address with a one-time code. The message is available until "+until+".</p>")
}

// NoticeMessage writes a notice from the organisation (named org, at the sender's
// address) to the recipient, with the given parts.
func NoticeMessage(org string, n *Notice, now time.Time, subject, text, htmlBody string) ([]byte, error) {
	fa, err := message.ParseAddress(n.From)
	if err != nil {
		return nil, err
	}
	ta, err := message.ParseAddress(n.To)
	if err != nil {
		return nil, err
	}
	d := &message.Draft{From: message.Address{Name: org, Addr: fa.Addr}, To: []message.Address{{Addr: ta.Addr}},
		Subject: subject, Text: text, HTML: htmlBody, Date: now}
	var b bytes.Buffer
	if err := message.Write(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SealPortalCopy seals a portal copy under a key of its own, itself sealed under the
// tenant key: destroying the sealed key (expiry, revocation) makes the copy unreadable.
func SealPortalCopy(keys *tenant.Keys, portalID string, raw []byte) (content, contentKey []byte) {
	k := seal.NewDataKeyBytes()
	dk, _ := seal.NewDataKey(k) // a fresh 32-byte key is always valid
	return dk.Seal(raw, "portal/"+portalID+"/content"), keys.Data.Seal(k, "portal/"+portalID+"/key")
}

// ErrDestroyed: the copy's key is gone.
var ErrDestroyed = errors.New("portal copy destroyed")

// OpenPortalCopy opens a copy sealed by SealPortalCopy.
func OpenPortalCopy(keys *tenant.Keys, p *store.PortalMessage) ([]byte, error) {
	if p.ContentKey == nil || p.Content == nil {
		return nil, ErrDestroyed
	}
	k, err := keys.Data.Open(p.ContentKey, "portal/"+p.ID+"/key")
	if err != nil {
		return nil, err
	}
	dk, err := seal.NewDataKey(k)
	if err != nil {
		return nil, err
	}
	return dk.Open(p.Content, "portal/"+p.ID+"/content")
}

// Passphrase hashing: argon2id at OWASP's minimum cost (19 MiB, 2 passes), salted.
const (
	passVersion = 1
	passSalt    = 16
	passKey     = 32
)

// HashPassphrase hashes a sender's passphrase for storage.
func HashPassphrase(pass string) []byte {
	salt := seal.RandomBytes(passSalt)
	out := append([]byte{passVersion}, salt...)
	return append(out, argon2.IDKey([]byte(pass), salt, 2, 19*1024, 1, passKey)...)
}

// CheckPassphrase compares in constant time.
func CheckPassphrase(hash []byte, pass string) bool {
	if len(hash) != 1+passSalt+passKey || hash[0] != passVersion {
		return false
	}
	salt := hash[1 : 1+passSalt]
	got := argon2.IDKey([]byte(pass), salt, 2, 19*1024, 1, passKey)
	return subtle.ConstantTimeCompare(got, hash[1+passSalt:]) == 1
}
