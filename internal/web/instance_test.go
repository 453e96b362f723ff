package web_test

import (
	"context"
	"errors"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestInstanceOperator proves the operator role on both databases: an operator made
// from the command line's service call signs in in Chromium with password and TOTP,
// sees every tenant's counts, creates a tenant and invites its owner; every tenant
// page and action refuses the operator; no tenant's person, owner included, reaches
// the instance page or its action, by page or forged POST; and no tenant query
// returns an operator as one of its people.
func TestInstanceOperator(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel() // the two databases' walks share nothing
		e := newEnv(t, dbURL)
		ctx := context.Background()
		ten, key := e.addTenant("northside", "clinic.example")
		msg := e.sendOne(key)
		owner := e.person(ten, "owner@clinic.example", people.RoleOwner)
		viewer := e.person(ten, "viewer@clinic.example", people.RoleViewer)

		// No tenant's owner can grant the role.
		ownerSess, err := e.srv.People.Session(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		var inv *people.InvalidError
		if _, _, err := e.srv.People.Invite(ctx, ownerSess.Actor("127.0.0.1"), ten, "sneaky@clinic.example", "", people.RoleOperator, ""); !errors.As(err, &inv) || inv.Field != "role" {
			t.Errorf("an owner invited an operator: %v", err)
		}

		// A second operator, signed in through the service, for the forged requests.
		opLink, err := e.srv.People.InviteOperator(ctx, people.Actor{Principal: "cli"}, "ops2@sealpost.test", "")
		if err != nil {
			t.Fatal(err)
		}
		op := e.signedIn(opLink, "amber lantern quarry")
		us, err := e.srv.DB.Users(ctx, ten)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if people.IsOperator(u.Role) {
				t.Errorf("the tenant's people include an operator: %s", u.Email)
			}
		}

		// Tenant pages and actions refuse the operator; nothing changes.
		for _, p := range []string{"/app/overview", "/app/messages", "/app/messages/" + msg, "/app/keys", "/app/people", "/app/audit", "/app/quarantine", "/app/reports"} {
			if s, body := e.page(op, p); s != 403 {
				t.Errorf("an operator opened %s: %d %.200s", p, s, body)
			}
		}
		_, page := e.page(op, "/app/instance")
		tok := formToken(t, page)
		keysBefore, _ := e.srv.DB.APIKeys(ctx, ten)
		for p, v := range map[string]url.Values{
			"/app/keys":                        {"name": {"forged"}, "scopes": {"admin"}},
			"/app/messages/" + msg + "/revoke": nil,
			"/app/people/invite":               {"email": {"x@clinic.example"}, "role": {"owner"}},
		} {
			form := url.Values{"csrf": {tok}}
			for k, vs := range v {
				form[k] = vs
			}
			if s, body := e.form(op, p, form); s != 403 {
				t.Errorf("an operator's POST %s: %d %.200s", p, s, body)
			}
		}
		if keysAfter, _ := e.srv.DB.APIKeys(ctx, ten); len(keysAfter) != len(keysBefore) {
			t.Errorf("an operator's forged POST made a key")
		}

		// Bad input gets every problem at once, and nothing is created.
		badForm := url.Values{"csrf": {tok}, "name": {"East Side"}, "email": {"not-an-address"}}
		if s, body := e.form(op, "/app/instance/tenants", badForm); s != 422 || !strings.Contains(body, "Tenant name") || !strings.Contains(body, "Owner&#39;s email") {
			t.Errorf("bad input: %d %.2000s", s, body)
		}

		// The instance page and its action refuse every tenant's person.
		for role, c := range map[string]string{"owner": owner, "viewer": viewer} {
			if s, _ := e.page(c, "/app/instance"); s != 403 {
				t.Errorf("a tenant's %s opened /app/instance: %d", role, s)
			}
			_, any := e.page(c, "/app/sessions")
			if strings.Contains(any, `href="/app/instance"`) {
				t.Errorf("a tenant's %s is offered the instance page", role)
			}
			form := url.Values{"csrf": {formToken(t, any)}, "name": {"forged-" + role}, "email": {"x@forged.example"}}
			if s, body := e.form(c, "/app/instance/tenants", form); s != 403 {
				t.Errorf("a tenant's %s POST /app/instance/tenants: %d %.200s", role, s, body)
			}
			if _, err := e.srv.Tenants.Tenant(ctx, "forged-"+role); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a tenant's %s created a tenant: %v", role, err)
			}
		}

		b := browsertest.Start(t)
		if b == nil {
			return
		}
		w := watchBrowser(t, b)
		axe := browsertest.AxeSource(t)
		dir := shots(t)
		visit := func(p string) {
			t.Helper()
			b.Navigate(e.base + p)
			w.check(t, b, e.base, p)
			browsertest.CheckAxe(t, b, axe, p)
		}

		// The operator accepts the invitation and sets up TOTP like anyone else.
		link, err := e.srv.People.InviteOperator(ctx, people.Actor{Principal: "cli"}, "ops@sealpost.test", "Ops")
		if err != nil {
			t.Fatal(err)
		}
		b.Navigate(link)
		b.Fill("#password", "violet kettle harbour")
		b.Fill("#confirm", "violet kettle harbour")
		b.Click(`button[type=submit]`)
		secret := strings.TrimSpace(b.Text("code.secret"))
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)
		w.check(t, b, e.base, "recovery codes")
		if !strings.Contains(b.HTML(), `href="/app/instance"`) {
			t.Errorf("the recovery codes page does not lead to the instance page")
		}
		b.Click(`form[action="/app/signout"] button`)

		// Signing in takes the password and a code, and lands on the instance page.
		b.Navigate(e.base + "/app/signin")
		b.Fill("#email", "ops@sealpost.test")
		b.Fill("#password", "violet kettle harbour")
		b.Click(`button[type=submit]`)
		b.Fill("#code", e.code(secret))
		b.Click(`button[type=submit]`)
		if !strings.HasSuffix(b.Location(), "/app/instance") {
			t.Fatalf("after the code: %s\n%s", b.Location(), b.Text("main"))
		}
		visit("/app/instance")
		shot(t, b, dir, "instance")
		nav := navLinks(t, b)
		if !slices.Equal(nav, []string{"/app/sessions", "/app/passkeys", "/app/instance"}) {
			t.Errorf("an operator's navigation: %v", nav)
		}
		row := b.Text(`main tbody tr`)
		// northside: its id, one message queued for delivery and accepted today, one
		// domain, two people.
		if f := strings.Fields(row); len(f) < 5 || f[0] != "northside" || strings.Join(f[len(f)-4:], " ") != "1 1 1 2" {
			t.Errorf("northside's row: %q", row)
		}
		if strings.Contains(b.HTML(), tenant.InstanceName) {
			t.Errorf("the instance page lists the operators' own scope")
		}

		// Bad input: the page says what is wrong and keeps what was typed.
		b.Fill("#name", "East Side")
		b.Fill("#email", "owner@east.example")
		b.Click(`form[action="/app/instance/tenants"] button`)
		if m := b.Text("main"); !strings.Contains(m, "Tenant name: use 1-63") {
			t.Errorf("bad input:\n%s", m)
		}
		w.check(t, b, e.base, "instance (bad input)")
		browsertest.CheckAxe(t, b, axe, "instance (bad input)")

		// A tenant created and its owner invited, through the same services as the CLI.
		b.Fill("#name", "eastside")
		b.Fill("#email", "owner@east.example")
		b.Click(`form[action="/app/instance/tenants"] button`)
		if !waitText(b, "main", "was created") {
			t.Fatalf("create:\n%s", b.Text("main"))
		}
		w.check(t, b, e.base, "instance (created)")
		newLink := strings.TrimSpace(b.Text("#invitation"))
		east, err := e.srv.Tenants.Tenant(ctx, "eastside")
		if err != nil {
			t.Fatal(err)
		}
		if _, u, err := e.srv.People.Invitation(ctx, path.Base(newLink)); err != nil || u.TenantID != east.ID || u.Role != people.RoleOwner || u.Email != "owner@east.example" {
			t.Errorf("the invitation: %v %+v", err, u)
		}
		if n := auditCount(t, e, east.ID, "user.invite"); n != 1 {
			t.Errorf("%d audit entries for the owner's invitation", n)
		}
		if !strings.Contains(b.Text("main tbody"), "eastside") {
			t.Errorf("the new tenant is not listed:\n%s", b.Text("main tbody"))
		}

		// A tenant page is refused in the browser too.
		b.Navigate(e.base + "/app/messages")
		if !strings.Contains(b.Text("main"), "does not allow") {
			t.Errorf("an operator opened /app/messages:\n%s", b.Text("main"))
		}
		w.check(t, b, e.base, "messages (refused)")
	})
}

// signedIn accepts an invitation link with a password, enrols TOTP and returns the
// full session's cookie.
func (e *env) signedIn(link, password string) string {
	e.t.Helper()
	ctx := context.Background()
	tok, err := e.srv.People.AcceptInvitation(ctx, path.Base(link), password, "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	sess, err := e.srv.People.Session(ctx, tok)
	if err != nil {
		e.t.Fatal(err)
	}
	secret, err := e.srv.People.TOTPSecret(ctx, sess.User)
	if err != nil {
		e.t.Fatal(err)
	}
	full, _, err := e.srv.People.ConfirmEnrolment(ctx, sess, e.code(secret), "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	return full
}
