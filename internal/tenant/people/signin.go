package people

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Session is a live session and its person.
type Session struct {
	*store.UserSession
	User *store.User
}

// Principal is what the person may do, as the API's scope checks see it.
func (s *Session) Principal() *tenant.Principal {
	r, _ := Role(s.User.Role)
	return &tenant.Principal{KeyID: "user:" + s.User.ID, TenantID: s.User.TenantID, Scopes: r.Scopes}
}

// Actor is the person as the author of a change.
func (s *Session) Actor(client string) Actor {
	return Actor{Principal: "user:" + s.User.ID, Role: s.User.Role, Client: client}
}

// Stage values.
const (
	StageMFA    = "mfa"    // password accepted; a second factor is owed
	StageEnroll = "enroll" // a second factor is being set up
	StageFull   = "full"
)

// SignIn checks an address and password. Its session is only the first stage: the
// second factor (or its enrolment, after a reset) is always owed.
func (s *Service) SignIn(ctx context.Context, email, password, client string) (tok, stage string, err error) {
	now := s.Now()
	u, err := s.db.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		VerifyPassword(nil, password) // as slow as a known account
		return "", "", s.fail(ctx, nil, "signin.failure", "unknown account", client)
	}
	if err != nil {
		return "", "", err
	}
	if now.Before(u.LockedUntil) {
		VerifyPassword(nil, password)
		_ = s.db.AppendAudit(ctx, s.entry(u.TenantID, "user:"+u.ID, "signin.failure", u.ID, "locked", client))
		return "", "", &LockedError{u.LockedUntil}
	}
	if !VerifyPassword(u.PasswordHash, password) || !u.DisabledAt.IsZero() {
		why := "wrong password"
		if !u.DisabledAt.IsZero() {
			why = "disabled"
		}
		return "", "", s.fail(ctx, u, "signin.failure", why, client)
	}
	if !u.MFAEnabled {
		secret, err := s.newSecret(ctx, u)
		if err != nil {
			return "", "", err
		}
		tok, sess := s.newSession(u, StageEnroll, 15*time.Minute, client)
		return tok, StageEnroll, s.db.StartEnrolment(ctx, u.ID, secret, sess, s.entry(u.TenantID, "user:"+u.ID, "signin.password", u.ID, "enrol", client))
	}
	tok, sess := s.newSession(u, StageMFA, 5*time.Minute, client)
	return tok, StageMFA, s.db.InsertSession(ctx, sess, s.entry(u.TenantID, "user:"+u.ID, "signin.password", u.ID, "ok", client))
}

// fail records a failure and counts it toward the lock.
func (s *Service) fail(ctx context.Context, u *store.User, action, why, client string) error {
	if u == nil {
		e := s.entry("", "anonymous", action, "", "refused", client)
		e.Detail = why
		if err := s.db.AppendAudit(ctx, e); err != nil {
			return err
		}
		return ErrSignIn
	}
	e := s.entry(u.TenantID, "user:"+u.ID, action, u.ID, "refused", client)
	e.Detail = why
	until, err := s.db.SignInFailure(ctx, u.ID, s.cfg.LockAfter, s.cfg.LockFor, s.Now(), e)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		_ = s.db.AppendAudit(ctx, s.entry(u.TenantID, "user:"+u.ID, "user.locked", u.ID, "locked", client))
		return &LockedError{until}
	}
	if action == "signin.failure" {
		return ErrSignIn
	}
	return ErrCode
}

// SecondFactor checks a TOTP code (or a recovery code) for a session at the MFA
// stage, and on success returns the new cookie of the now full session.
func (s *Service) SecondFactor(ctx context.Context, sess *Session, code, client string) (string, error) {
	if sess.Stage != StageMFA {
		return "", ErrSession
	}
	u := sess.User
	if s.Now().Before(u.LockedUntil) {
		return "", &LockedError{u.LockedUntil}
	}
	ok, how, err := s.checkCode(ctx, u, code)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", s.fail(ctx, u, "signin.mfa_failure", how, client)
	}
	tok := token()
	now := s.Now()
	e := s.entry(u.TenantID, "user:"+u.ID, "signin.success", u.ID, "ok", client)
	e.Detail = how
	if err := s.db.SignedIn(ctx, u.ID, sess.ID, tokenHash("session", tok), now.Add(s.cfg.AbsoluteTimeout), now, e); err != nil {
		return "", err
	}
	return tok, nil
}

// checkCode tries a TOTP code, then a recovery code; how says which matched (or why
// not, for the audit trail).
func (s *Service) checkCode(ctx context.Context, u *store.User, code string) (bool, string, error) {
	code = strings.TrimSpace(code)
	if strings.Contains(code, "-") || len(code) > 8 {
		ok, err := s.db.UseRecoveryCode(ctx, u.ID, recoveryHash(u.ID, code), s.Now())
		return ok, map[bool]string{true: "recovery code", false: "wrong recovery code"}[ok], err
	}
	secret, err := s.TOTPSecret(ctx, u)
	if err != nil {
		return false, "", err
	}
	step := matchTOTP(secret, code, s.Now())
	if step == 0 {
		return false, "wrong code", nil
	}
	ok, err := s.db.AcceptTOTP(ctx, u.ID, step)
	if err != nil || !ok {
		return false, "reused code", err
	}
	return true, "totp", nil
}

// ConfirmEnrolment checks the first code from the new authenticator, switches the
// second factor on and returns the full session's cookie and the recovery codes,
// which are shown once.
func (s *Service) ConfirmEnrolment(ctx context.Context, sess *Session, code, client string) (string, []string, error) {
	if sess.Stage != StageEnroll {
		return "", nil, ErrSession
	}
	u := sess.User
	ok, how, err := s.checkCode(ctx, u, code)
	if err != nil {
		return "", nil, err
	}
	if !ok || how != "totp" {
		return "", nil, s.fail(ctx, u, "user.mfa_enrol_failure", how, client)
	}
	codes := newRecoveryCodes()
	var hashes [][]byte
	for _, c := range codes {
		hashes = append(hashes, recoveryHash(u.ID, c))
	}
	tok := token()
	now := s.Now()
	if err := s.db.EnableMFA(ctx, u.ID, hashes, sess.ID, tokenHash("session", tok), now.Add(s.cfg.AbsoluteTimeout), now,
		s.entry(u.TenantID, "user:"+u.ID, "user.mfa_enrolled", u.ID, "ok", client),
		s.entry(u.TenantID, "user:"+u.ID, "signin.success", u.ID, "ok", client)); err != nil {
		return "", nil, err
	}
	return tok, codes, nil
}

// Session resolves a cookie to a live session: not revoked, within its absolute
// lifetime and idle timeout, its person not disabled. Activity is recorded at most
// once a minute, which is as fine as the idle timeout needs.
func (s *Service) Session(ctx context.Context, tok string) (*Session, error) {
	if tok == "" {
		return nil, ErrSession
	}
	us, err := s.db.SessionByHash(ctx, tokenHash("session", tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrSession
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if !us.RevokedAt.IsZero() || !now.Before(us.ExpiresAt) || now.Sub(us.LastSeen) > s.cfg.IdleTimeout {
		return nil, ErrSession
	}
	u, err := s.db.User(ctx, us.TenantID, us.UserID)
	if err != nil {
		return nil, err
	}
	if !u.DisabledAt.IsZero() {
		return nil, ErrSession
	}
	if now.Sub(us.LastSeen) > time.Minute {
		if err := s.db.TouchSession(ctx, us.ID, now); err != nil {
			return nil, err
		}
	}
	return &Session{UserSession: us, User: u}, nil
}

// SignOut ends the caller's own session.
func (s *Service) SignOut(ctx context.Context, sess *Session, client string) error {
	return s.db.RevokeSession(ctx, sess.TenantID, sess.UserID, sess.ID, s.Now(), s.entry(sess.TenantID, "user:"+sess.UserID, "signout", sess.ID, "ok", client))
}

// Sessions lists live sessions: one's own, or everyone's in the tenant for those who
// manage people.
func (s *Service) Sessions(ctx context.Context, sess *Session, everyone bool) ([]*store.UserSession, error) {
	uid := sess.UserID
	if everyone {
		if r, _ := Role(sess.User.Role); !r.People {
			return nil, ErrForbidden
		}
		uid = ""
	}
	return s.db.Sessions(ctx, sess.TenantID, uid, s.Now())
}

// RevokeSession ends a session: one's own, or anyone's in the tenant for those who
// manage people.
func (s *Service) RevokeSession(ctx context.Context, sess *Session, id, client string) error {
	uid := sess.UserID
	if r, _ := Role(sess.User.Role); r.People {
		uid = ""
	}
	err := s.db.RevokeSession(ctx, sess.TenantID, uid, id, s.Now(), s.entry(sess.TenantID, "user:"+sess.UserID, "session.revoke", id, "ok", client))
	if errors.Is(err, store.ErrNotFound) {
		return ErrForbidden
	}
	return err
}

// Users lists a tenant's people.
func (s *Service) Users(ctx context.Context, tenantID string) ([]*store.User, error) {
	return s.db.Users(ctx, tenantID)
}

// Change changes a person's role, disables them or clears their second factor.
// tenantID "" with the CLI actor reaches any tenant.
func (s *Service) Change(ctx context.Context, by Actor, tenantID, userID string, c store.UserChange) error {
	u, err := s.db.User(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	if c.Role != "" {
		if _, ok := Role(c.Role); !ok {
			return &InvalidError{"role", "one of " + strings.Join(RoleNames(), ", ")}
		}
	}
	if by.Role != "" {
		want := c.Role
		if want == "" {
			want = u.Role
		}
		if !MayAssign(by.Role, u.Role, want) {
			return ErrForbidden
		}
	}
	var acts []*store.AuditEntry
	add := func(action, detail string) {
		e := s.entry(u.TenantID, by.Principal, action, u.ID, "ok", by.Client)
		e.Detail = detail
		acts = append(acts, e)
	}
	if c.Role != "" && c.Role != u.Role {
		add("user.role", "role="+c.Role)
	}
	if c.Disable {
		add("user.disable", "")
	}
	if c.ResetMFA {
		add("user.reset_mfa", "")
	}
	return s.db.ChangeUser(ctx, u.TenantID, u.ID, c, s.Now(), acts...)
}
