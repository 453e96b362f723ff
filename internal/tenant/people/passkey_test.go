package people

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// signedIn enrols a person and returns a session at the second-factor step and a
// full one.
func signedIn(t *testing.T, s *Service, c *clock, tenantID, email string) (mfa, full *Session) {
	t.Helper()
	ctx := context.Background()
	secret, _ := enrol(t, s, c, tenantID, email, RoleOwner)
	session := func() *Session {
		tok, stage, err := s.SignIn(ctx, email, "violet kettle harbour", "127.0.0.1")
		if err != nil || stage != StageMFA {
			t.Fatalf("sign in: %v %s", err, stage)
		}
		sess, err := s.Session(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	full = session()
	c.add(30 * time.Second)
	code, _ := TOTPCode(secret, c.now())
	tok, err := s.SecondFactor(ctx, full, code, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if full, err = s.Session(ctx, tok); err != nil {
		t.Fatal(err)
	}
	return session(), full
}

// TestPasskeyCeremonies checks what the browser test cannot reach: options name the
// configured relying party; a challenge is taken once and expires; answers that do
// not parse are refused and audited and count toward the lock; the stored counter
// only moves forward; resetting the second factor removes passkeys.
func TestPasskeyCeremonies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s, db, tn, c := newService(t, dbURL)
		mfa, full := signedIn(t, s, c, tn.ID, "pat@northside.example")

		opts, err := s.BeginPasskeyEnrol(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			PublicKey struct {
				RP        struct{ ID string }
				Challenge string
				User      struct{ ID string }
			}
		}
		if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.RP.ID != "mail.example" || len(o.PublicKey.Challenge) < 32 {
			t.Fatalf("options: %v %s", err, opts)
		}
		if _, err := s.BeginPasskeyEnrol(ctx, mfa); !errors.Is(err, ErrSession) {
			t.Fatalf("enrolment from a half session: %v", err)
		}
		if _, err := s.FinishPasskeyEnrol(ctx, full, "", "{}", "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "name") {
			t.Fatalf("no name: %v", err)
		}
		if _, err := s.FinishPasskeyEnrol(ctx, full, "laptop", `{"id":"x"}`, "127.0.0.1"); !errors.Is(err, ErrPasskey) {
			t.Fatalf("garbage answer: %v", err)
		}
		// The challenge went with the refused answer.
		if _, err := db.TakeCeremony(ctx, full.ID, "register", c.now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the challenge outlived its answer: %v", err)
		}
		if _, err := s.BeginPasskeyEnrol(ctx, full); err != nil {
			t.Fatal(err)
		}
		c.add(ceremonyLife + time.Second)
		if _, err := db.TakeCeremony(ctx, full.ID, "register", c.now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired challenge was taken: %v", err)
		}
		if n := countAudit(t, db, tn.ID, "user.passkey_enrol_failure"); n != 1 {
			t.Errorf("%d enrolment failures audited", n)
		}

		// Without passkeys the second-factor step offers none; with one, a bad
		// answer is refused like a wrong code.
		mfa, _ = signedIn2(t, s, "pat@northside.example")
		if _, err := s.BeginPasskeySignIn(ctx, mfa); !errors.Is(err, ErrNoPasskeys) {
			t.Fatalf("no passkeys: %v", err)
		}
		pk := &store.Passkey{ID: "pk_test", TenantID: tn.ID, UserID: mfa.UserID, Name: "key", CredentialID: []byte("cred-1"), PublicKey: []byte{1}, SignCount: 5, CreatedAt: c.now()}
		if err := db.InsertPasskey(ctx, pk); err != nil {
			t.Fatal(err)
		}
		if !s.HasPasskeys(ctx, mfa) {
			t.Fatal("HasPasskeys false with a passkey")
		}
		if _, err := s.BeginPasskeySignIn(ctx, mfa); err != nil {
			t.Fatal(err)
		}
		before := userFailures(t, db, mfa.UserID)
		if _, err := s.PasskeySignIn(ctx, mfa, `{"id":"x"}`, "127.0.0.1"); !errors.Is(err, ErrPasskey) {
			t.Fatalf("garbage assertion: %v", err)
		}
		if _, err := s.PasskeySignIn(ctx, mfa, `{"id":"x"}`, "127.0.0.1"); !errors.Is(err, ErrPasskey) {
			t.Fatalf("second answer: %v", err)
		}
		if got := userFailures(t, db, mfa.UserID); got != before+2 {
			t.Errorf("failures %d, want %d", got, before+2)
		}

		// The counter only moves forward.
		now := c.now()
		if err := db.PasskeySignedIn(ctx, pk.ID, mfa.UserID, 4, mfa.ID, []byte("h1"), now.Add(time.Hour), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("counter 5 -> 4 accepted: %v", err)
		}
		if err := db.PasskeySignedIn(ctx, pk.ID, mfa.UserID, 5, mfa.ID, []byte("h2"), now.Add(time.Hour), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("counter 5 -> 5 accepted: %v", err)
		}
		if err := db.PasskeySignedIn(ctx, pk.ID, mfa.UserID, 6, mfa.ID, []byte("h3"), now.Add(time.Hour), now); err != nil {
			t.Fatalf("counter 5 -> 6: %v", err)
		}

		// Removing someone else's passkey finds nothing; reset-mfa removes them all.
		if err := s.RemovePasskey(ctx, &Session{UserSession: &store.UserSession{TenantID: tn.ID, UserID: "usr_other"}}, pk.ID, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removing another's passkey: %v", err)
		}
		if err := s.Change(ctx, Actor{Principal: "cli"}, tn.ID, mfa.UserID, store.UserChange{ResetMFA: true}); err != nil {
			t.Fatal(err)
		}
		if ks, _ := db.Passkeys(ctx, mfa.UserID); len(ks) != 0 {
			t.Fatalf("passkeys survived reset-mfa: %d", len(ks))
		}
	})
}

// signedIn2 signs an enrolled person in again, to the second-factor step.
func signedIn2(t *testing.T, s *Service, email string) (*Session, string) {
	t.Helper()
	tok, _, err := s.SignIn(context.Background(), email, "violet kettle harbour", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.Session(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return sess, tok
}

func userFailures(t *testing.T, db *store.DB, id string) int {
	t.Helper()
	u, err := db.User(context.Background(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	return u.Failures
}

func countAudit(t *testing.T, db *store.DB, tenantID, action string) int {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), store.AuditFilter{TenantID: tenantID, Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestOIDCSettings: every bad field is reported at once; the client secret is
// stored sealed; one email domain belongs to one tenant; a callback without a
// sign-on under way is refused and audited.
func TestOIDCSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s, db, tn, _ := newService(t, dbURL)
		err := s.SetOIDC(ctx, Actor{Principal: "cli"}, tn.ID, OIDCSettings{Issuer: "http://idp.example"})
		for _, f := range []string{"issuer", "client_id", "client_secret", "email_domain"} {
			if err == nil || !strings.Contains(err.Error(), f+":") {
				t.Errorf("%s not reported: %v", f, err)
			}
		}
		set := OIDCSettings{Issuer: "https://accounts.google.com", ClientID: "abc", ClientSecret: "very-secret-value", EmailDomain: "Northside.example"}
		if err := s.SetOIDC(ctx, Actor{Principal: "cli"}, tn.ID, set); err != nil {
			t.Fatal(err)
		}
		p, err := db.OIDCProviderByDomain(ctx, "northside.example")
		if err != nil || p.TenantID != tn.ID || strings.Contains(string(p.ClientSecret), "very-secret-value") {
			t.Fatalf("stored provider: %v %+v", err, p)
		}
		other, err := s.tenants.Create(ctx, "southside")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetOIDC(ctx, Actor{Principal: "cli"}, other.ID, set); err == nil || !strings.Contains(err.Error(), "already signs in") {
			t.Fatalf("a second tenant took the domain: %v", err)
		}
		if _, _, err := s.StartOIDC(ctx, "pat@elsewhere.example"); !errors.Is(err, ErrNoSSO) {
			t.Fatalf("unknown domain: %v", err)
		}
		if _, _, err := s.FinishOIDC(ctx, "no-such-cookie", "state", "code", "127.0.0.1"); !errors.Is(err, ErrSSO) {
			t.Fatalf("callback without a sign-on: %v", err)
		}
		if err := s.RemoveOIDC(ctx, Actor{Principal: "cli"}, tn.ID); err != nil {
			t.Fatal(err)
		}
		if s.SSOAvailable(ctx) {
			t.Error("single sign-on still offered after removal")
		}
	})
}
