package web_test

import (
	"context"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// onLocalhost serves the dashboard as http://localhost:port: browsers accept neither
// an IP address as a WebAuthn RP ID nor passkeys outside a secure context, and
// localhost is one.
func onLocalhost(cfg *config.Config) {
	_, port, _ := net.SplitHostPort(cfg.API.Listen)
	cfg.Dashboard.URL = "http://localhost:" + port
}

// authenticator gives the browser a virtual platform authenticator (CTAP2, internal
// transport, resident keys, user verification that succeeds).
func authenticator(t *testing.T, b *browsertest.Browser) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(b.Ctx(), webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	r, err := chromedp.Call(b.Ctx(), webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatal(err)
	}
	return r.AuthenticatorID
}

// mainText is the page's main text, or "" while a page is loading.
func mainText(b *browsertest.Browser) string {
	s, _ := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`document.readyState === "complete" && document.querySelector("main") ? location.pathname + "\n" + document.querySelector("main").innerText : ""`))
	return s
}

// waitFor waits until the page (path and main text) contains want: the passkey
// forms submit only after the script's round trips.
func waitFor(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(mainText(b), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %q; the page says:\n%s", want, mainText(b))
}

func passkeys(t *testing.T, e *env, userID string) []*store.Passkey {
	t.Helper()
	ks, err := e.srv.DB.Passkeys(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestPasskeysInBrowser registers passkeys in Chromium with a virtual authenticator
// and signs in with one after the password, on both databases. A removed passkey
// and one whose signature counter went back are refused by the server; every step
// is audited; the pages load with no console message or CSP violation and pass axe.
func TestPasskeysInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel() // the two databases' walks share nothing
		e := newEnv(t, dbURL, onLocalhost)
		ten, _ := e.addTenant("northside", "clinic.example")
		b := browsertest.Start(t)
		if b == nil {
			return
		}
		w := watchBrowser(t, b)
		axe := ""
		if strings.HasPrefix(dbURL, "sqlite:") {
			axe = browsertest.AxeSource(t)
		}
		dir := shots(t)
		auth := authenticator(t, b)
		ctx := context.Background()

		// An owner joins with a password and TOTP, as everyone does.
		link := e.invite(ten, "owner@clinic.example", people.RoleOwner)
		b.Navigate(link)
		b.Fill("#password", "violet kettle harbour")
		b.Fill("#confirm", "violet kettle harbour")
		b.Click(`button[type=submit]`)
		secret := strings.TrimSpace(b.Text("code.secret"))
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)
		uid := ownerID(t, e, ten)

		// Register a passkey on the person's own page.
		b.Navigate(e.base + "/app/passkeys")
		w.check(t, b, e.base, "passkeys")
		browsertest.CheckAxe(t, b, axe, "passkeys")
		b.Fill("#name", "work laptop")
		b.ClickNoWait(`form[data-passkey="create"] button`)
		waitFor(t, b, `Passkey "work laptop" added`)
		w.check(t, b, e.base, "passkey added")
		browsertest.CheckAxe(t, b, axe, "passkey added")
		shot(t, b, dir, "passkeys")
		ks := passkeys(t, e, uid)
		if len(ks) != 1 || ks[0].Name != "work laptop" || len(ks[0].PublicKey) == 0 || len(ks[0].AAGUID) != 16 || len(ks[0].Transports) == 0 {
			t.Fatalf("stored passkeys: %+v", ks)
		}
		laptop := ks[0]

		// Sign out, then the password and the passkey.
		signIn := func() {
			t.Helper()
			b.Navigate(e.base + "/app/signin")
			b.Fill("#email", "owner@clinic.example")
			b.Fill("#password", "violet kettle harbour")
			b.Click(`button[type=submit]`)
		}
		b.Click(`form[action="/app/signout"] button`)
		signIn()
		w.check(t, b, e.base, "code with passkey")
		browsertest.CheckAxe(t, b, axe, "code with passkey")
		shot(t, b, dir, "code-passkey")
		b.ClickNoWait(`form[data-passkey="get"] button`)
		waitFor(t, b, "/app/overview")
		w.check(t, b, e.base, "overview after passkey")
		if ks := passkeys(t, e, uid); ks[0].SignCount == 0 || ks[0].LastUsed.IsZero() {
			t.Errorf("the use was not recorded: %+v", ks[0])
		}
		if n := auditCount(t, e, ten, "user.passkey_added"); n != 1 {
			t.Errorf("%d passkey_added audit entries", n)
		}

		// A second passkey, then the first is removed on the page; the
		// authenticator still holds it (as a lost laptop would).
		got, err := chromedp.Call(b.Ctx(), webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
		if err != nil || len(got.Credentials) != 1 {
			t.Fatalf("authenticator credentials: %v %v", got, err)
		}
		old := got.Credentials[0]
		if _, err := chromedp.Call(b.Ctx(), webauthn.ClearCredentials, webauthn.ClearCredentialsParams{AuthenticatorID: auth}); err != nil {
			t.Fatal(err)
		}
		b.Navigate(e.base + "/app/passkeys")
		b.Fill("#name", "phone")
		b.ClickNoWait(`form[data-passkey="create"] button`)
		waitFor(t, b, `Passkey "phone" added`)
		// Sent without the CMTG fields, which this authenticator refuses even empty.
		type credential struct {
			CredentialID         []byte  `json:"credentialId"`
			IsResidentCredential bool    `json:"isResidentCredential"`
			RpID                 string  `json:"rpId"`
			PrivateKey           []byte  `json:"privateKey"`
			SignCount            float64 `json:"signCount"`
		}
		type addParams struct {
			AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
			Credential      credential               `json:"credential"`
		}
		add := cdp.Command[addParams, cdp.Empty]{Method: webauthn.CommandAddCredential}
		if _, err := chromedp.Call(b.Ctx(), add, addParams{auth, credential{old.CredentialID, false, "localhost", old.PrivateKey, old.SignCount}}); err != nil {
			t.Fatal(err)
		}
		b.Click(`tr[data-passkey="` + laptop.ID + `"] button`)
		waitFor(t, b, "no longer signs you in")
		w.check(t, b, e.base, "passkey removed")
		if ks := passkeys(t, e, uid); len(ks) != 1 || ks[0].Name != "phone" {
			t.Fatalf("after removal: %+v", ks)
		}
		if n := auditCount(t, e, ten, "user.passkey_removed"); n != 1 {
			t.Errorf("%d passkey_removed audit entries", n)
		}

		// The browser answers the server's challenge with the removed passkey
		// (the script is bypassed to offer it): the server refuses.
		b.Click(`form[action="/app/signout"] button`)
		signIn()
		failures := auditCount(t, e, ten, "signin.mfa_failure")
		forge := `(async () => {
			const f = document.querySelector('form[data-passkey="get"]');
			const r = await fetch(f.dataset.options, {method: "POST", body: new URLSearchParams({csrf: f.elements.csrf.value})});
			const o = await r.json();
			o.publicKey.allowCredentials = [{type: "public-key", id: "` + base64.RawURLEncoding.EncodeToString(laptop.CredentialID) + `"}];
			const c = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o.publicKey)});
			f.elements.credential.value = JSON.stringify(c.toJSON());
			f.submit();
			return true;
		})()`
		if _, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[bool](forge, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("answering with the removed passkey: %v", err)
		}
		waitFor(t, b, "was not accepted")
		w.check(t, b, e.base, "removed passkey refused")
		if n := auditCount(t, e, ten, "signin.mfa_failure"); n != failures+1 {
			t.Errorf("the refusal was not audited: %d failures before, %d after", failures, n)
		}

		// The remaining passkey works.
		b.ClickNoWait(`form[data-passkey="get"] button`)
		waitFor(t, b, "/app/overview")

		// A signature counter that goes back (a cloned authenticator) is refused.
		if _, err := e.srv.DB.SQL().ExecContext(ctx, "UPDATE user_passkeys SET sign_count = 1000000 WHERE user_id = $1", uid); err != nil {
			t.Fatal(err)
		}
		b.Click(`form[action="/app/signout"] button`)
		signIn()
		b.ClickNoWait(`form[data-passkey="get"] button`)
		waitFor(t, b, "was not accepted")
		w.check(t, b, e.base, "counter regression refused")
		es, err := e.srv.DB.AuditEntries(ctx, store.AuditFilter{TenantID: ten, Action: "signin.mfa_failure", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range es {
			found = found || strings.Contains(a.Detail, "counter went back")
		}
		if !found {
			t.Errorf("no audit entry for the counter regression: %+v", es)
		}
		// The TOTP code still works at the same step.
		b.Fill("#code", e.code(secret))
		b.Click(`form[action="/app/signin/code"] button`)
		if !strings.HasSuffix(b.Location(), "/app/overview") {
			t.Fatalf("after the code: %s\n%s", b.Location(), b.Text("main"))
		}
	})
}
