package people

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Config tunes sign-in.
type Config struct {
	Issuer          string        // shown in authenticator apps; default "Sealpost"
	BaseURL         string        // where invitation links lead, e.g. https://mail.example.org
	IdleTimeout     time.Duration // default 30 min (HIPAA §164.312(a)(2)(iii) automatic logoff)
	AbsoluteTimeout time.Duration // default 12 h
	InviteTTL       time.Duration // default 7 days
	LockAfter       int           // consecutive failures; default 10 (SP 800-63B allows at most 100)
	LockFor         time.Duration // default 15 min
	// Passkeys: the dashboard's origin (default BaseURL) and WebAuthn RP ID (default
	// the origin's host name).
	Origin, RPID string
}

// Sender sends a message through the tenant's own pipeline; also runs inside the
// transaction that accepts it, so what the message announces is stored with it.
type Sender func(ctx context.Context, tenantID, from, to, subject, text string, also func(context.Context, *store.Tx) error) error

// Service manages people. Every sign-in, failure and change is audited in the same
// write as the change.
type Service struct {
	db      *store.DB
	tenants *tenant.Service
	cfg     Config
	send    Sender
	wa      *webauthn.WebAuthn // nil: passkeys off
	oidc    oidcCache
	// Now is the clock; tests move it to expire sessions.
	Now func() time.Time
}

// New builds the service; send may be nil (invitations are then only links).
func New(db *store.DB, tenants *tenant.Service, cfg Config, send Sender) *Service {
	if cfg.Issuer == "" {
		cfg.Issuer = "Sealpost"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	if cfg.InviteTTL <= 0 {
		cfg.InviteTTL = 7 * 24 * time.Hour
	}
	if cfg.LockAfter <= 0 {
		cfg.LockAfter = 10
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 15 * time.Minute
	}
	s := &Service{db: db, tenants: tenants, cfg: cfg, send: send, Now: time.Now}
	wa, err := relyingParty(cfg)
	if err == nil {
		s.wa = wa
	}
	return s
}

// Config returns the settings in force.
func (s *Service) Config() Config { return s.cfg }

// Actor is who makes a change: a signed-in person (Principal "user:…" with Role) or
// the operator at the command line (Principal "cli", Role "").
type Actor struct{ Principal, Role, Client string }

// Errors a face shows as they are.
var (
	ErrSignIn    = errors.New("the address or password is not right")
	ErrCode      = errors.New("the code is not right, or was already used")
	ErrSession   = errors.New("the session has ended; please sign in again")
	ErrForbidden = errors.New("your role does not allow this")
	ErrInvite    = errors.New("this invitation link is not valid: it was used, has expired or was withdrawn")
)

// LockedError says the account is locked, and until when.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed attempts: this account is locked until " + e.Until.UTC().Format("15:04 MST")
}

// InvalidError is a request the caller can fix; Field names the form field.
type InvalidError struct{ Field, Msg string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

func (s *Service) entry(tenantID, principal, action, object, result, client string) *store.AuditEntry {
	return &store.AuditEntry{At: s.Now(), TenantID: tenantID, Principal: principal, Action: action, Object: object, Result: result, Client: client}
}

func token() string { return base64.RawURLEncoding.EncodeToString(seal.RandomBytes(32)) }

func tokenHash(kind, t string) []byte {
	h := sha256.Sum256([]byte("sealpost " + kind + "\x00" + t))
	return h[:]
}

// Invite makes a user with a role and an invitation. With from set the invitation is
// emailed through the tenant's pipeline, in the transaction that stores the user;
// otherwise the link is returned for the operator to pass on.
func (s *Service) Invite(ctx context.Context, by Actor, tenantID, email, name, role, from string) (string, *store.User, error) {
	if by.Role != "" && !MayAssign(by.Role, "", role) {
		return "", nil, ErrForbidden
	}
	if _, ok := Role(role); !ok {
		return "", nil, &InvalidError{"role", "one of " + strings.Join(RoleNames(), ", ")}
	}
	return s.invite(ctx, by, tenantID, email, name, role, from)
}

// invite makes the user and invitation once the role has been checked.
func (s *Service) invite(ctx context.Context, by Actor, tenantID, email, name, role, from string) (string, *store.User, error) {
	a, err := message.ParseAddress(email)
	if err != nil {
		return "", nil, &InvalidError{"email", "not an email address"}
	}
	if len(name) > 200 || strings.ContainsAny(name, "\r\n\x00") {
		return "", nil, &InvalidError{"name", "at most 200 characters on one line"}
	}
	now := s.Now()
	u := &store.User{ID: tenant.NewID("usr"), TenantID: tenantID, Email: strings.ToLower(a.Addr), Name: name, Role: role, CreatedAt: now}
	tok := token()
	inv := &store.Invitation{ID: tenant.NewID("inv"), TenantID: tenantID, UserID: u.ID, Hash: tokenHash("invite", tok), CreatedBy: by.Principal, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InviteTTL)}
	link := strings.TrimRight(s.cfg.BaseURL, "/") + "/app/invite/" + tok
	audit := s.entry(tenantID, by.Principal, "user.invite", u.ID, "ok", by.Client)
	audit.Detail = "role=" + role
	if from == "" || s.send == nil {
		if err := s.db.CreateUser(ctx, u, inv, audit); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return "", nil, &InvalidError{"email", "someone with this address already has an account"}
			}
			return "", nil, err
		}
		return link, u, nil
	}
	t, err := s.tenants.Tenant(ctx, tenantID)
	if err != nil {
		return "", nil, err
	}
	text := fmt.Sprintf("You have been invited to the %s dashboard on Sealpost as %s.\r\n\r\nChoose your password here (the link works once, for %d days):\r\n\r\n    %s\r\n\r\nYou will then set up an authenticator app: signing in always takes a code from it.\r\nIf you did not expect this, ignore this email.\r\n",
		t.Name, role, int(s.cfg.InviteTTL/(24*time.Hour)), link)
	err = s.send(ctx, tenantID, from, u.Email, "Your invitation to "+t.Name+" on Sealpost", text, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertUser(ctx, u, inv); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit)
	})
	if errors.Is(err, store.ErrConflict) {
		return "", nil, &InvalidError{"email", "someone with this address already has an account"}
	}
	if err != nil {
		return "", nil, err
	}
	return "", u, nil
}

// Invitation resolves an invitation link to its user, if it may still be used.
func (s *Service) Invitation(ctx context.Context, tok string) (*store.Invitation, *store.User, error) {
	inv, err := s.db.InvitationByHash(ctx, tokenHash("invite", tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrInvite
	}
	if err != nil {
		return nil, nil, err
	}
	if !inv.UsedAt.IsZero() || !s.Now().Before(inv.ExpiresAt) {
		return nil, nil, ErrInvite
	}
	u, err := s.db.User(ctx, inv.TenantID, inv.UserID)
	if err != nil {
		return nil, nil, err
	}
	if !u.DisabledAt.IsZero() {
		return nil, nil, ErrInvite
	}
	return inv, u, nil
}

// AcceptInvitation sets the password and starts enrolling the second factor: the
// session it returns can do nothing but finish enrolment.
func (s *Service) AcceptInvitation(ctx context.Context, tok, password, client string) (string, error) {
	inv, u, err := s.Invitation(ctx, tok)
	if err != nil {
		return "", err
	}
	t, err := s.tenants.Tenant(ctx, u.TenantID)
	if err != nil {
		return "", err
	}
	if err := CheckPassword(password, u.Email, u.Name, t.Name); err != nil {
		return "", &InvalidError{"password", err.Error()}
	}
	secret, err := s.newSecret(ctx, u)
	if err != nil {
		return "", err
	}
	sessTok, sess := s.newSession(u, "enroll", 15*time.Minute, client)
	err = s.db.AcceptInvitation(ctx, inv, HashPassword(password), secret, sess, s.Now(), s.entry(u.TenantID, "user:"+u.ID, "user.invitation_accepted", u.ID, "ok", client))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrInvite
	}
	return sessTok, err
}

func (s *Service) newSecret(ctx context.Context, u *store.User) ([]byte, error) {
	k, err := NewTOTPKey(s.cfg.Issuer, u.Email)
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	return keys.Data.SealString(k.Secret(), "user/"+u.ID+"/totp"), nil
}

// TOTPSecret opens a user's TOTP secret (for enrolment, and to check codes).
func (s *Service) TOTPSecret(ctx context.Context, u *store.User) (string, error) {
	if u.TOTPSecret == nil {
		return "", errors.New("no second factor set up")
	}
	keys, err := s.tenants.Keys(ctx, u.TenantID)
	if err != nil {
		return "", err
	}
	return keys.Data.OpenString(u.TOTPSecret, "user/"+u.ID+"/totp")
}

// EnrolmentURI is the otpauth URI an authenticator app reads (as a QR code or typed).
func (s *Service) EnrolmentURI(ctx context.Context, u *store.User) (secret, uri string, err error) {
	secret, err = s.TOTPSecret(ctx, u)
	if err != nil {
		return "", "", err
	}
	uri = fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30", pathEscape(s.cfg.Issuer), pathEscape(u.Email), secret, pathEscape(s.cfg.Issuer))
	return secret, uri, nil
}

func pathEscape(v string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", ":", "%3A", "/", "%2F", "?", "%3F", "&", "%26", "#", "%23", "=", "%3D", "+", "%2B").Replace(v)
}

func (s *Service) newSession(u *store.User, stage string, life time.Duration, client string) (string, *store.UserSession) {
	now := s.Now()
	tok := token()
	return tok, &store.UserSession{ID: tenant.NewID("ses"), Hash: tokenHash("session", tok), UserID: u.ID, TenantID: u.TenantID, Stage: stage,
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(life), Client: client}
}
