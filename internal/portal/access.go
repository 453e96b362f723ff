package portal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// copyByToken finds the copy a link names. Unknown, expired and revoked copies are all
// errGone: the recipient learns nothing about which. An expired copy found before the
// sweeper reached it is destroyed now.
func (s *Service) copyByToken(ctx context.Context, token string) (*store.PortalMessage, error) {
	if token == "" || len(token) > 64 {
		return nil, errGone
	}
	p, err := s.db.PortalByToken(ctx, secureline.TokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGone
	}
	if err != nil {
		return nil, err
	}
	if !p.Readable(s.now()) {
		if p.DestroyedAt.IsZero() && !s.now().Before(p.ExpiresAt) {
			if err := s.destroy(ctx, p, "expired", "system:portal", ""); err != nil {
				return nil, err
			}
		}
		return nil, errGone
	}
	return p, nil
}

var errGone = errors.New("portal copy not available")

// cookieName is per copy, so one browser can hold sessions for several messages.
func (s *Service) cookieName(p *store.PortalMessage) string {
	if s.cfg.SecureCookies {
		return "__Host-sp-" + p.ID
	}
	return "sp-" + p.ID
}

func sessionHash(v string) []byte {
	h := sha256.Sum256([]byte("sealpost portal session\x00" + v))
	return h[:]
}

// csrfToken is derived from the session secret: a form posted without it, or with
// another session's, is refused.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session returns the signed-in session for this copy, or "" when there is none (or it
// belongs to another copy, or it timed out). It restarts the idle clock.
func (s *Service) session(r *http.Request, p *store.PortalMessage) (string, error) {
	c, err := r.Cookie(s.cookieName(p))
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return "", nil
	}
	h := sessionHash(c.Value)
	sess, err := s.db.PortalSession(r.Context(), h)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	now := s.now()
	// The session must be this copy's: a cookie from another message opens nothing.
	if subtle.ConstantTimeCompare([]byte(sess.PortalID), []byte(p.ID)) != 1 {
		return "", nil
	}
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeen.Add(s.cfg.SessionIdle)) {
		_ = s.db.EndPortalSession(r.Context(), h)
		return "", nil
	}
	if err := s.db.TouchPortalSession(r.Context(), h, now); err != nil {
		return "", err
	}
	return c.Value, nil
}

func (s *Service) setCookie(w http.ResponseWriter, p *store.PortalMessage, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(p), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// signIn starts a session after a correct code or passphrase. code is the hash of the
// code that matched (nil for a passphrase): the store consumes it only if it is still
// the copy's live code and nothing is locked, so it reports false when a concurrent
// request used the code first or a lock came first.
func (s *Service) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, keys *tenant.Keys, p *store.PortalMessage, how string, code []byte) (bool, error) {
	value := base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32))
	now := s.now()
	sess := &store.PortalSession{IDHash: sessionHash(value), PortalID: p.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.cfg.SessionMax)}
	var ok bool
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if ok, err = tx.PortalSignIn(ctx, sess, clientIP(r), code, now); err != nil || !ok {
			return err
		}
		return s.record(ctx, tx, keys, p, "portal.signed_in", principal(p), clientIP(r), map[string]any{"by": how})
	})
	if err != nil || !ok {
		return false, err
	}
	s.setCookie(w, p, value, int(s.cfg.SessionMax/time.Second))
	return true, nil
}

func principal(p *store.PortalMessage) string { return "portal:" + p.ID }

// lock reports a lock on the copy or on the client's address.
func (s *Service) lock(ctx context.Context, p *store.PortalMessage, client string) (time.Time, error) {
	return s.db.PortalLock(ctx, p.ID, client, s.now())
}

// fail counts a wrong code or passphrase, with its events, and reports what is left.
// It returns store.ErrPortalLocked, counting nothing, when a lock came first.
func (s *Service) fail(ctx context.Context, r *http.Request, keys *tenant.Keys, p *store.PortalMessage, how string) (left int, until time.Time, err error) {
	client := clientIP(r)
	lim := store.FailureLimits{PerMessage: s.cfg.MaxFailures, PerClient: s.cfg.ClientMaxFailures, Lockout: s.cfg.Lockout}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if left, until, err = tx.PortalFailure(ctx, p.ID, client, s.now(), lim); err != nil {
			return err
		}
		if err := s.record(ctx, tx, keys, p, "portal.code_failed", principal(p), client, map[string]any{"by": how, "client": client}); err != nil {
			return err
		}
		if !until.IsZero() {
			return s.record(ctx, tx, keys, p, "portal.locked", principal(p), client, map[string]any{"until": until, "client": client})
		}
		return nil
	})
	return left, until, err
}

// newCode draws a uniformly random code of the configured length.
func (s *Service) newCode() (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s.cfg.CodeDigits)), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", s.cfg.CodeDigits, n), nil
}

func codeHash(keys *tenant.Keys, p *store.PortalMessage, code string) []byte {
	return keys.Hash("portal-code", p.ID+":"+code)
}

// checkCode compares a submitted code with the copy's current one, in constant time;
// an expired or used code never matches.
func (s *Service) checkCode(keys *tenant.Keys, p *store.PortalMessage, code string) bool {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if p.CodeHash == nil || !s.now().Before(p.CodeExpiresAt) || len(code) != s.cfg.CodeDigits {
		return false
	}
	return subtle.ConstantTimeCompare(codeHash(keys, p, code), p.CodeHash) == 1
}

// address returns the copy's recipient address: one small row, so the pages that only
// mask it do not load the message itself.
func (s *Service) address(ctx context.Context, keys *tenant.Keys, p *store.PortalMessage) (string, error) {
	rc, err := s.db.Recipient(ctx, p.RecipientID)
	if err != nil {
		return "", err
	}
	return keys.Data.OpenString(rc.Address, "recipient/"+rc.ID)
}

// recipient returns the copy's recipient address and the original message's envelope.
func (s *Service) recipient(ctx context.Context, keys *tenant.Keys, p *store.PortalMessage) (string, *pipeline.Envelope, error) {
	addr, err := s.address(ctx, keys, p)
	if err != nil {
		return "", nil, err
	}
	env, err := s.envelope(ctx, keys, p.MessageID)
	return addr, env, err
}

// Code emails per copy: at most codesPerWindow in codeWindow, so a link in the wrong
// hands cannot flood the recipient's mailbox.
const (
	codesPerWindow = 5
	codeWindow     = time.Hour
)

// codeRefusal says why no code is sent now.
type codeRefusal int

const (
	codeSent codeRefusal = iota
	codeTooSoon
	codeTooMany
)

// sendCode stores a fresh code and queues the email that carries it, in one commit,
// unless a code went out moments ago or too many went out this hour.
func (s *Service) sendCode(ctx context.Context, r *http.Request, keys *tenant.Keys, p *store.PortalMessage) (codeRefusal, error) {
	now := s.now()
	if !p.CodeSentAt.IsZero() && now.Sub(p.CodeSentAt) < s.cfg.ResendAfter && p.CodeHash != nil {
		return codeTooSoon, nil
	}
	if p.CodeSends >= codesPerWindow && now.Sub(p.CodeWindowStart) < codeWindow {
		return codeTooMany, nil
	}
	to, env, err := s.recipient(ctx, keys, p)
	if err != nil {
		return codeSent, err
	}
	org, _, err := s.orgName(ctx, p.TenantID)
	if err != nil {
		return codeSent, err
	}
	code, err := s.newCode()
	if err != nil {
		return codeSent, err
	}
	from, err := message.ParseAddress(env.From)
	if err != nil {
		return codeSent, err
	}
	ta, err := message.ParseAddress(to)
	if err != nil {
		return codeSent, err
	}
	minutes := int(s.cfg.CodeTTL / time.Minute)
	valid := fmt.Sprintf("%d minutes", minutes)
	if minutes < 1 {
		valid = s.cfg.CodeTTL.String()
	}
	d := &message.Draft{
		From: message.Address{Name: org, Addr: from.Addr}, To: []message.Address{{Addr: ta.Addr}},
		Subject: "Your access code for a secure message from " + org,
		Text: "Your access code is:\r\n\r\n    " + code + "\r\n\r\nEnter it on the secure message page. It is valid for " + valid +
			" and can be used once.\r\n\r\nIf you did not ask for a code, you can ignore this email; nobody can read your message without it.\r\n",
	}
	hash := codeHash(keys, p, code)
	sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: p.TenantID, KeyID: principal(p)}, Draft: d, System: true,
		Tags: []string{"portal-code"}, TLS: r.TLS, ClientAddr: clientIP(r),
		Also: func(ctx context.Context, tx *store.Tx, _ string) error {
			// The limits are decided here, in the statement that stores the code:
			// the checks above only spare the work when the answer is plain.
			lim := store.CodeLimits{ResendAfter: s.cfg.ResendAfter, PerWindow: codesPerWindow, Window: codeWindow}
			if err := tx.SetPortalCode(ctx, p.ID, hash, now.Add(s.cfg.CodeTTL), now, lim); err != nil {
				return err
			}
			return s.record(ctx, tx, keys, p, "portal.code_sent", principal(p), clientIP(r), nil)
		}}
	if _, err := s.pipeline.Submit(ctx, sub); errors.Is(err, store.ErrCodeRefused) {
		// A concurrent request sent a code first, or used up the window.
		return s.codeRefusal(ctx, p.ID, now), nil
	} else if err != nil {
		return codeSent, err
	}
	s.accepted()
	return codeSent, nil
}

// codeRefusal says which limit refused a code, from the copy as it is now.
func (s *Service) codeRefusal(ctx context.Context, portalID string, now time.Time) codeRefusal {
	if p, err := s.db.PortalMessage(ctx, portalID); err == nil {
		if p.CodeSends >= codesPerWindow && now.Sub(p.CodeWindowStart) < codeWindow && (p.CodeHash == nil || now.Sub(p.CodeSentAt) >= s.cfg.ResendAfter) {
			return codeTooMany
		}
	}
	return codeTooSoon
}

// maskAddress shows enough of an address for its owner to recognise it.
func maskAddress(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "your email address"
	}
	r := []rune(local)
	return string(r[0]) + "•••@" + domain
}
