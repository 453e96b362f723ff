package people

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t *testing.T, dbURL string) (*Service, *store.DB, *store.Tenant, *clock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	ts := tenant.New(db, ring)
	tn, err := ts.Create(ctx, "northside")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	s := New(db, ts, Config{BaseURL: "https://mail.example"}, nil)
	s.Now = c.now
	return s, db, tn, c
}

// enrol invites a person, accepts the invitation and finishes enrolment; it returns
// the TOTP secret and the recovery codes.
func enrol(t *testing.T, s *Service, c *clock, tenantID, email, role string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	link, _, err := s.Invite(ctx, Actor{Principal: "cli"}, tenantID, email, "Pat Doe", role, "")
	if err != nil {
		t.Fatal(err)
	}
	tok := link[strings.LastIndex(link, "/")+1:]
	if _, err := s.AcceptInvitation(ctx, tok, "password1234", "127.0.0.1"); err == nil {
		t.Fatal("a common password was accepted")
	}
	sessTok, err := s.AcceptInvitation(ctx, tok, "violet kettle harbour", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, tok, "violet kettle harbour", "127.0.0.1"); !errors.Is(err, ErrInvite) {
		t.Fatalf("second use of an invitation: %v", err)
	}
	sess, err := s.Session(ctx, sessTok)
	if err != nil || sess.Stage != StageEnroll {
		t.Fatalf("enrolment session: %v %+v", err, sess)
	}
	secret, _, err := s.EnrolmentURI(ctx, sess.User)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := TOTPCode(secret, c.now())
	full, codes, err := s.ConfirmEnrolment(ctx, sess, code, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sessTok); !errors.Is(err, ErrSession) {
		t.Fatal("the enrolment cookie still works after promotion")
	}
	if fs, err := s.Session(ctx, full); err != nil || fs.Stage != StageFull {
		t.Fatalf("full session: %v", err)
	}
	c.add(30 * time.Second) // the enrolment code's step is spent
	return secret, codes
}

func TestSignInFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s, db, tn, c := newService(t, dbURL)
		secret, codes := enrol(t, s, c, tn.ID, "Pat@Northside.example", RoleViewer)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes", len(codes))
		}

		signIn := func() *Session {
			t.Helper()
			tok, stage, err := s.SignIn(ctx, "pat@northside.example", "violet kettle harbour", "127.0.0.1")
			if err != nil || stage != StageMFA {
				t.Fatalf("sign in: %v %s", err, stage)
			}
			sess, err := s.Session(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if sess.Principal().Can(tenant.ScopeRead) != true || sess.Principal().Can(tenant.ScopeAdmin) {
				t.Fatal("a viewer's principal is wrong")
			}
			return sess
		}
		if _, _, err := s.SignIn(ctx, "pat@northside.example", "wrong password!!", "127.0.0.1"); !errors.Is(err, ErrSignIn) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, _, err := s.SignIn(ctx, "nobody@northside.example", "violet kettle harbour", "127.0.0.1"); !errors.Is(err, ErrSignIn) {
			t.Fatalf("unknown account: %v", err)
		}

		// A right code works once; the same code again is refused.
		sess := signIn()
		code, _ := TOTPCode(secret, c.now())
		if _, err := s.SecondFactor(ctx, sess, "000000", "127.0.0.1"); !errors.Is(err, ErrCode) && code != "000000" {
			t.Fatalf("wrong code: %v", err)
		}
		full, err := s.SecondFactor(ctx, sess, code, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SecondFactor(ctx, signIn(), code, "127.0.0.1"); !errors.Is(err, ErrCode) {
			t.Fatalf("reused code: %v", err)
		}
		// A recovery code works once.
		if _, err := s.SecondFactor(ctx, signIn(), codes[0], "127.0.0.1"); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if _, err := s.SecondFactor(ctx, signIn(), codes[0], "127.0.0.1"); !errors.Is(err, ErrCode) {
			t.Fatalf("reused recovery code: %v", err)
		}

		// Idle timeout, then the absolute one.
		fs, err := s.Session(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		c.add(29 * time.Minute)
		if _, err := s.Session(ctx, full); err != nil {
			t.Fatalf("session within the idle timeout: %v", err)
		}
		c.add(31 * time.Minute)
		if _, err := s.Session(ctx, full); !errors.Is(err, ErrSession) {
			t.Fatalf("idle session still works: %v", err)
		}
		_ = fs

		// Revocation.
		c.add(30 * time.Second)
		sess = signIn()
		code, _ = TOTPCode(secret, c.now())
		full, err = s.SecondFactor(ctx, sess, code, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		fs, _ = s.Session(ctx, full)
		list, err := s.Sessions(ctx, fs, false)
		if err != nil || len(list) == 0 {
			t.Fatalf("sessions: %v %d", err, len(list))
		}
		if _, err := s.Sessions(ctx, fs, true); !errors.Is(err, ErrForbidden) {
			t.Fatal("a viewer listed everyone's sessions")
		}
		if err := s.RevokeSession(ctx, fs, fs.ID, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, full); !errors.Is(err, ErrSession) {
			t.Fatal("a revoked session still works")
		}

		// Lockout after ten failures; the right password is then refused too.
		for i := range 10 {
			_, _, err := s.SignIn(ctx, "pat@northside.example", "wrong password!!", "127.0.0.1")
			if i < 9 && !errors.Is(err, ErrSignIn) || i == 9 && !errors.As(err, new(*LockedError)) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if _, _, err := s.SignIn(ctx, "pat@northside.example", "violet kettle harbour", "127.0.0.1"); !errors.As(err, new(*LockedError)) {
			t.Fatalf("locked account: %v", err)
		}
		c.add(16 * time.Minute)
		signIn()

		// Every step is in the audit trail.
		es, err := db.AuditEntries(ctx, store.AuditFilter{TenantID: tn.ID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, e := range es {
			seen[e.Action]++
		}
		for _, a := range []string{"user.invite", "user.invitation_accepted", "user.mfa_enrolled", "signin.password", "signin.success", "signin.failure", "signin.mfa_failure", "session.revoke", "user.locked"} {
			if seen[a] == 0 {
				t.Errorf("no %s in the audit trail (%v)", a, seen)
			}
		}
	})
}

func TestRolesAndChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s, _, tn, c := newService(t, dbURL)
		enrol(t, s, c, tn.ID, "owner@northside.example", RoleOwner)
		admin := Actor{Principal: "user:x", Role: RoleAdmin}
		if _, _, err := s.Invite(ctx, admin, tn.ID, "o2@northside.example", "", RoleOwner, ""); !errors.Is(err, ErrForbidden) {
			t.Fatalf("an admin made an owner: %v", err)
		}
		if _, _, err := s.Invite(ctx, Actor{Principal: "user:y", Role: RoleViewer}, tn.ID, "v@northside.example", "", RoleViewer, ""); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a viewer invited someone: %v", err)
		}
		_, u, err := s.Invite(ctx, admin, tn.ID, "dev@northside.example", "", RoleDeveloper, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Invite(ctx, admin, tn.ID, "DEV@northside.example", "", RoleDeveloper, ""); !errors.As(err, new(*InvalidError)) {
			t.Fatalf("duplicate address: %v", err)
		}
		if err := s.Change(ctx, admin, "other-tenant", u.ID, store.UserChange{Disable: true}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a change across tenants: %v", err)
		}
		if err := s.Change(ctx, admin, tn.ID, u.ID, store.UserChange{Role: RoleOwner}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("an admin promoted to owner: %v", err)
		}
		if err := s.Change(ctx, admin, tn.ID, u.ID, store.UserChange{Disable: true}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPasswordRules(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                      false,
		"Password123!":               false,
		"P@ssw0rd2024":               false,
		"qwertyuiop123":              false,
		"aaaaaaaaaaaaaaa":            false,
		"abcabcabcabcabc":            false,
		"123456789012":               false,
		"northside2024!!":            false, // the organisation's name
		"violet kettle harbour":      true,
		"correct horse battery zinc": true,
		"Ünïcödé pässwörd ok 7":      true,
	} {
		err := CheckPassword(pw, "pat@northside.example", "Pat Doe", "northside")
		if (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
	h := HashPassword("violet kettle harbour")
	if !strings.HasPrefix(string(h), "$argon2id$v=19$m=19456,t=2,p=1$") || !VerifyPassword(h, "violet kettle harbour") || VerifyPassword(h, "violet kettle harbouR") {
		t.Fatalf("argon2id hash %s", h)
	}
	if VerifyPassword(nil, "") || VerifyPassword([]byte("$argon2id$garbage"), "x") {
		t.Fatal("a malformed hash matched")
	}
}

// TestTOTPVectors checks the code generator against RFC 6238 Appendix B (SHA-1).
func TestTOTPVectors(t *testing.T) {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for ts, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		// RFC 6238 lists eight digits; the last six are the six-digit code.
		got, err := TOTPCode(secret, time.Unix(ts, 0))
		if err != nil || got != want {
			t.Errorf("T=%d: %s %v, want %s", ts, got, err, want)
		}
		if step := matchTOTP(secret, want, time.Unix(ts, 0)); step != ts/30 {
			t.Errorf("T=%d: matched step %d", ts, step)
		}
	}
}
