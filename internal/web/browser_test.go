package web_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestDashboardInBrowser walks the dashboard in Chromium on both databases: an owner
// accepts an invitation, sets up TOTP and reaches every page; codes are refused when
// wrong or reused; sessions end when idle or revoked; an account locks; a viewer is
// refused by page and by forged POST; another tenant's message is not found. Every
// page loads with no console message, no CSP violation and no request elsewhere.
func TestDashboardInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel() // the two databases' walks share nothing
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		_, otherKey := e.addTenant("southside", "south.example")
		send := func(k, from string) string {
			s, out := e.api("POST", "/v1/messages", k, map[string]any{"from": "Lab <" + from + ">", "to": []string{"pat@patient.example"},
				"subject": "Your results are ready", "text": "Please sign in to read them."})
			if s != 202 {
				t.Fatalf("send: %d %v", s, out)
			}
			return out["id"].(string)
		}
		msg := send(key, "lab@clinic.example")
		foreign := send(otherKey, "lab@south.example")

		b := browsertest.Start(t)
		if b == nil {
			return
		}
		w := watchBrowser(t, b)
		// The pages are the same on both databases: their accessibility is checked
		// on one, which halves the walk's slowest part.
		axe := ""
		if strings.HasPrefix(dbURL, "sqlite:") {
			axe = browsertest.AxeSource(t)
		}
		dir := shots(t)
		visit := func(path, name string) {
			t.Helper()
			b.Navigate(e.base + path)
			w.check(t, b, e.base, path)
			browsertest.CheckAxe(t, b, axe, path)
			if name != "" {
				shot(t, b, dir, name)
			}
		}

		// The owner accepts the invitation: a common password first, then a good one.
		link := e.invite(ten, "owner@clinic.example", people.RoleOwner)
		b.Navigate(link)
		w.check(t, b, e.base, "invite")
		browsertest.CheckAxe(t, b, axe, "invite")
		shot(t, b, dir, "invite")
		b.Fill("#password", "Password123!")
		b.Fill("#confirm", "Password123!")
		b.Click(`button[type=submit]`)
		if !strings.Contains(b.Text("main"), "commonly used") {
			t.Fatalf("a common password was not refused:\n%s", b.Text("main"))
		}
		b.Fill("#password", "violet kettle harbour")
		b.Fill("#confirm", "violet kettle harbour")
		b.Click(`button[type=submit]`)
		if !strings.HasSuffix(b.Location(), "/app/enrol") {
			t.Fatalf("after the password: %s\n%s", b.Location(), b.Text("main"))
		}
		w.check(t, b, e.base, "enrol")
		browsertest.CheckAxe(t, b, axe, "enrol")
		shot(t, b, dir, "enrol")
		secret := strings.TrimSpace(b.Text("code.secret"))
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)
		if n := strings.Count(b.HTML(), "<li><code>"); n != 10 {
			t.Fatalf("%d recovery codes shown:\n%s", n, b.Text("main"))
		}
		shot(t, b, dir, "recovery-codes")

		// Every page the owner may open.
		for _, p := range []string{"overview", "messages", "domains", "keys", "audit", "people", "sessions", "campaigns"} {
			visit("/app/"+p, p)
		}
		// The overview counts what the API's events say for the same day.
		s, out := e.api("GET", "/v1/events?type=accepted", key, nil)
		if s != 200 {
			t.Fatalf("events: %d", s)
		}
		accepted := len(out["events"].([]any))
		visit("/app/overview", "")
		if got := b.Text(`tr[data-type="accepted"] td`); got != strconv.Itoa(accepted) {
			t.Errorf("overview shows %q accepted in 24 h; the API lists %d", got, accepted)
		}

		// The audit trail verifies from its page.
		visit("/app/audit", "")
		b.Click(`form[action="/app/audit/verify"] button`)
		if !strings.Contains(b.Text("main"), "audit trail is intact") {
			t.Fatalf("verify:\n%s", b.Text("main"))
		}

		// A message's page, then revoke it.
		visit("/app/messages/"+msg, "message")
		if !strings.Contains(b.Text("main"), "pat@patient.example") || !strings.Contains(b.Text("main"), "accepted and stored sealed") {
			t.Fatalf("message page:\n%s", b.Text("main"))
		}
		b.Click(`form[action$="/revoke"] button`)
		if !strings.Contains(b.Text("main"), "withdrawn") {
			t.Fatalf("after revoke:\n%s", b.Text("main"))
		}
		w.check(t, b, e.base, "revoked")
		shot(t, b, dir, "message-revoked")
		if n := auditCount(t, e, ten, "POST /v1/messages/{id}/revoke"); n != 1 {
			t.Errorf("%d audit entries for the revoke", n)
		}

		// Another tenant's message is not there.
		b.Navigate(e.base + "/app/messages/" + foreign)
		if !strings.Contains(b.Text("main"), "another organisation") || strings.Contains(b.HTML(), "south.example") {
			t.Fatalf("another tenant's message:\n%s", b.Text("main"))
		}

		// A key is created and its secret shown once.
		visit("/app/keys", "")
		b.Fill("#name", "billing system")
		b.Click(`input[value="send"]`)
		b.Click(`form[action="/app/keys"] button`)
		keySecret := b.Text("#secret")
		if !strings.HasPrefix(keySecret, "sp_live_") {
			t.Fatalf("no secret shown:\n%s", b.Text("main"))
		}
		shot(t, b, dir, "key-created")
		visit("/app/keys", "")
		if strings.Contains(b.HTML(), keySecret) {
			t.Fatal("the key's secret is shown again")
		}

		// Invitations from the page go out through the tenant's pipeline, stored with
		// the person in one transaction.
		visit("/app/people", "")
		b.Fill("#email", "marketer@clinic.example")
		b.Click(`form[action="/app/people/invite"] button`)
		if !strings.Contains(b.Text("main"), "invitation was sent") {
			t.Fatalf("invite:\n%s", b.Text("main"))
		}
		ms, err := e.srv.DB.RecentMessages(context.Background(), ten, 10)
		if err != nil || len(ms) < 2 {
			t.Fatalf("the invitation is not a message: %v %d", err, len(ms))
		}

		// Sign out; sign in with password and TOTP; wrong and reused codes.
		b.Click(`form[action="/app/signout"] button`)
		if !strings.Contains(b.Text("main"), "signed out") {
			t.Fatalf("sign out:\n%s", b.Text("main"))
		}
		browsertest.CheckAxe(t, b, axe, "signin")
		shot(t, b, dir, "signin")
		signIn := func(email, pw string) {
			t.Helper()
			b.Navigate(e.base + "/app/signin")
			b.Fill("#email", email)
			b.Fill("#password", pw)
			b.Click(`button[type=submit]`)
		}
		signIn("owner@clinic.example", "violet kettle harbour")
		browsertest.CheckAxe(t, b, axe, "code")
		shot(t, b, dir, "code")
		b.Fill("#code", "12345x")
		b.Click(`button[type=submit]`)
		if !strings.Contains(b.Text("main"), "not right") {
			t.Fatalf("wrong code:\n%s", b.Text("main"))
		}
		code := e.code(secret)
		b.Fill("#code", code)
		b.Click(`button[type=submit]`)
		if !strings.HasSuffix(b.Location(), "/app/overview") {
			t.Fatalf("after the code: %s\n%s", b.Location(), b.Text("main"))
		}
		b.Click(`form[action="/app/signout"] button`)
		signIn("owner@clinic.example", "violet kettle harbour")
		b.Fill("#code", code)
		b.Click(`button[type=submit]`)
		if !strings.Contains(b.Text("main"), "already used") {
			t.Fatalf("a reused code was not refused:\n%s", b.Text("main"))
		}
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)

		// Idle timeout.
		e.clock.add(31 * time.Minute)
		b.Navigate(e.base + "/app/overview")
		if !strings.HasSuffix(b.Location(), "/app/signin") {
			t.Fatalf("an idle session still works: %s", b.Location())
		}
		// A revoked session.
		signIn("owner@clinic.example", "violet kettle harbour")
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)
		visit("/app/sessions", "")
		b.Click(`form[action$="/revoke"] button`)
		b.Navigate(e.base + "/app/overview")
		if !strings.HasSuffix(b.Location(), "/app/signin") {
			t.Fatalf("a revoked session still works: %s", b.Location())
		}

		// A viewer: no key page, and a forged POST is refused with a valid form token.
		vlink := e.invite(ten, "viewer@clinic.example", people.RoleViewer)
		b.Navigate(vlink)
		b.Fill("#password", "amber lantern meadow")
		b.Fill("#confirm", "amber lantern meadow")
		b.Click(`button[type=submit]`)
		vsecret := strings.TrimSpace(b.Text("code.secret"))
		b.Fill("#code", e.code(vsecret))
		b.Click(`button[type=submit]`)
		visit("/app/overview", "viewer-overview")
		if strings.Contains(b.Text("nav"), "API keys") || strings.Contains(b.Text("nav"), "People") {
			t.Errorf("a viewer's navigation offers: %s", b.Text("nav"))
		}
		b.Navigate(e.base + "/app/keys")
		if !strings.Contains(b.Text("main"), "does not allow") {
			t.Errorf("a viewer opened the keys page:\n%s", b.Text("main"))
		}
		var cookie string
		for _, c := range b.Cookies(e.base) {
			if c.Name == "__Host-sealpost" {
				cookie = c.Value
				if !c.HTTPOnly || !c.Secure || c.SameSite != "Strict" {
					t.Errorf("cookie flags: %+v", c)
				}
			}
		}
		visit("/app/sessions", "")
		csrf := formToken(t, b.HTML())
		before, _ := e.srv.DB.APIKeys(context.Background(), ten)
		for _, f := range []struct {
			path string
			v    url.Values
		}{
			{"/app/keys", url.Values{"csrf": {csrf}, "name": {"forged"}, "scopes": {"admin"}}},
			{"/app/messages/" + msg + "/revoke", url.Values{"csrf": {csrf}}},
			{"/app/people/invite", url.Values{"csrf": {csrf}, "email": {"x@clinic.example"}, "role": {"owner"}}},
			{"/app/keys/" + keyID(t, e, ten) + "/revoke", url.Values{"csrf": {csrf}}},
			{"/app/audit/verify", url.Values{"csrf": {csrf}}},
			{"/app/audit/checkpoint", url.Values{"csrf": {csrf}}},
			{"/app/people/" + ownerID(t, e, ten) + "/disable", url.Values{"csrf": {csrf}}},
			{"/app/people/" + ownerID(t, e, ten) + "/reset-mfa", url.Values{"csrf": {csrf}}},
		} {
			if s, body := e.form(cookie, f.path, f.v); s != 403 {
				t.Errorf("a viewer's forged POST %s: %d %s", f.path, s, body)
			}
		}
		if s, _ := e.form(cookie, "/app/keys", url.Values{"name": {"no token"}, "scopes": {"admin"}}); s != 403 {
			t.Errorf("a POST without the form token: %d", s)
		}
		after, _ := e.srv.DB.APIKeys(context.Background(), ten)
		if len(after) != len(before) {
			t.Fatal("a viewer's forged POST created a key")
		}

		// Lockout: ten wrong passwords, then the right one is refused too.
		b.Click(`form[action="/app/signout"] button`)
		for range 10 {
			signIn("viewer@clinic.example", "not the password")
		}
		signIn("viewer@clinic.example", "amber lantern meadow")
		if !strings.Contains(b.Text("main"), "locked") {
			t.Fatalf("no lockout:\n%s", b.Text("main"))
		}
		shot(t, b, dir, "locked")
		if n := auditCount(t, e, ten, "user.locked"); n != 1 {
			t.Errorf("%d lock entries in the audit trail", n)
		}

		// A keyboard-only walk: sign in, find a message by id, open it and revoke it.
		kmsg := send(key, "lab@clinic.example")
		b.Navigate(e.base + "/app/signin")
		tabTo(t, b, "email", 5)
		typeText(t, b, "owner@clinic.example")
		tabTo(t, b, "password", 2)
		typeText(t, b, "violet kettle harbour")
		enter(t, b)
		tabTo(t, b, "code", 5)
		typeText(t, b, e.code(secret))
		enter(t, b)
		if !strings.HasSuffix(b.Location(), "/app/overview") {
			t.Fatalf("keyboard sign-in ended at %s:\n%s", b.Location(), b.Text("main"))
		}
		tabTo(t, b, "a:Messages", 10)
		enter(t, b)
		tabTo(t, b, "id", 15)
		typeText(t, b, kmsg)
		enter(t, b)
		if !strings.HasSuffix(b.Location(), "/app/messages/"+kmsg) {
			t.Fatalf("keyboard search ended at %s", b.Location())
		}
		tabTo(t, b, "button:Revoke message", 30)
		enter(t, b)
		if !strings.Contains(b.Text("main"), "withdrawn") {
			t.Fatalf("keyboard revoke:\n%s", b.Text("main"))
		}
	})
}

func keyID(t *testing.T, e *env, tenantID string) string {
	ks, err := e.srv.DB.APIKeys(context.Background(), tenantID)
	if err != nil || len(ks) == 0 {
		t.Fatalf("keys: %v", err)
	}
	return ks[0].ID
}

func ownerID(t *testing.T, e *env, tenantID string) string {
	us, err := e.srv.DB.Users(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Role == people.RoleOwner {
			return u.ID
		}
	}
	t.Fatal("no owner")
	return ""
}

func auditCount(t *testing.T, e *env, tenantID, action string) int {
	t.Helper()
	es, err := e.srv.DB.AuditEntries(context.Background(), store.AuditFilter{TenantID: tenantID, Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// formToken finds the form token in a page.
func formToken(t *testing.T, html string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(html, marker)
	if i < 0 {
		t.Fatal("no form token on the page")
	}
	rest := html[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}
