package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestSingleSignOnInBrowser signs in through an OpenID Connect provider in Chromium,
// on both databases: an invited person signs on, enrols our second factor, later
// owes it again (the provider's amr is not trusted by default), then is let in on the
// provider's MFA once the tenant trusts it. A token for another audience, a wrong
// nonce, an unverified address and a person who was never invited are refused, and
// each refusal is audited.
func TestSingleSignOnInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel() // the two databases' walks share nothing
		e := newEnv(t, dbURL, onLocalhost)
		ten, _ := e.addTenant("northside", "clinic.example")
		p := newIDP(t)
		ctx := context.Background()
		set := people.OIDCSettings{Issuer: p.issuer(), ClientID: p.clientID, ClientSecret: p.pass, EmailDomain: "clinic.example"}
		if err := e.srv.People.SetOIDC(ctx, people.Actor{Principal: "cli"}, ten, set); err != nil {
			t.Fatal(err)
		}
		b := browsertest.Start(t)
		if b == nil {
			return
		}
		w := watchBrowser(t, b)
		w.allow = []string{strings.TrimPrefix(p.issuer(), "http://")}
		axe := ""
		if strings.HasPrefix(dbURL, "sqlite:") {
			axe = browsertest.AxeSource(t)
		}
		e.invite(ten, "owner@clinic.example", people.RoleOwner)
		sso := func(email string) {
			t.Helper()
			p.mu.Lock()
			p.Email = email
			p.mu.Unlock()
			b.Navigate(e.base + "/app/signin")
			b.Fill("#sso-email", email)
			b.ClickNoWait(`form[action="/app/sso"] button`)
		}

		// First sign-on: the person never chose a password; our second factor is
		// enrolled before anything else.
		b.Navigate(e.base + "/app/signin")
		w.check(t, b, e.base, "signin with sso")
		browsertest.CheckAxe(t, b, axe, "signin with sso")
		shot(t, b, shots(t), "signin-sso")
		sso("owner@clinic.example")
		waitFor(t, b, "/app/enrol")
		w.check(t, b, e.base, "enrol after sso")
		secret := strings.TrimSpace(b.Text("code.secret"))
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)
		if n := strings.Count(b.HTML(), "<li><code>"); n != 10 {
			t.Fatalf("%d recovery codes shown:\n%s", n, b.Text("main"))
		}

		// Later sign-ons still owe our code, even with the provider's MFA.
		b.Click(`form[action="/app/signout"] button`)
		p.AMR = []string{"pwd", "mfa"}
		sso("owner@clinic.example")
		waitFor(t, b, "/app/signin/code")
		b.Fill("#code", e.code(secret))
		b.Click(`form[action="/app/signin/code"] button`)
		if !strings.HasSuffix(b.Location(), "/app/overview") {
			t.Fatalf("after the code: %s\n%s", b.Location(), b.Text("main"))
		}

		// Trusting the provider's amr lets a sign-on with MFA straight in, and
		// one without it still owes our code.
		set.TrustAMR = true
		if err := e.srv.People.SetOIDC(ctx, people.Actor{Principal: "cli"}, ten, set); err != nil {
			t.Fatal(err)
		}
		b.Click(`form[action="/app/signout"] button`)
		sso("owner@clinic.example")
		waitFor(t, b, "/app/overview")
		w.check(t, b, e.base, "overview after sso")
		b.Click(`form[action="/app/signout"] button`)
		p.AMR = []string{"pwd"}
		sso("owner@clinic.example")
		waitFor(t, b, "/app/signin/code")

		// Refusals.
		refused := func(what string, bend func()) {
			t.Helper()
			before := auditCount(t, e, ten, "signin.sso_failure")
			p.mu.Lock()
			p.AMR = []string{"mfa"}
			bend()
			p.mu.Unlock()
			sso(p.Email)
			waitFor(t, b, "did not succeed")
			w.check(t, b, e.base, what)
			p.mu.Lock()
			p.Audience, p.Nonce, p.Verified, p.Email = "", "", true, "owner@clinic.example"
			p.mu.Unlock()
			if n := auditCount(t, e, ten, "signin.sso_failure"); n != before+1 {
				t.Errorf("%s: %d sso failures audited, want %d", what, n, before+1)
			}
		}
		refused("another audience", func() { p.Audience = "some-other-client" })
		refused("wrong nonce", func() { p.Nonce = "not-the-nonce-we-sent" })
		refused("unverified address", func() { p.Verified = false })
		refused("unknown person", func() { p.Email = "stranger@clinic.example" })
		es, err := e.srv.DB.AuditEntries(ctx, store.AuditFilter{TenantID: ten, Action: "signin.sso_failure", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var why []string
		for _, a := range es {
			why = append(why, a.Detail)
		}
		for _, want := range []string{"audience", "nonce mismatch", "unverified", "no such person"} {
			if !strings.Contains(strings.Join(why, "|"), want) {
				t.Errorf("no refusal audited for %q: %v", want, why)
			}
		}
		// An address of a domain nobody signs on with is told so on the page.
		b.Navigate(e.base + "/app/signin")
		b.Fill("#sso-email", "someone@elsewhere.example")
		b.Click(`form[action="/app/sso"] button`)
		if !strings.Contains(b.Text("main"), "not set up for this address") {
			t.Errorf("unknown domain:\n%s", b.Text("main"))
		}
	})
}
