package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// person makes a signed-in person of role through the people service (an invitation
// accepted, TOTP enrolled) and returns their session cookie.
func (e *env) person(tenantID, email, role string) string {
	e.t.Helper()
	ctx := context.Background()
	tok, err := e.srv.People.AcceptInvitation(ctx, path.Base(e.invite(tenantID, email, role)), "violet kettle harbour "+role, "127.0.0.1")
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

// page loads a dashboard page with a session cookie.
func (e *env) page(cookie, p string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+p, nil)
	req.Header.Set("Cookie", "__Host-sealpost="+cookie)
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// ruleCase is one mutating dashboard action tried by a person whose role lacks the
// permission the API route it mirrors needs.
type ruleCase struct {
	role          string // who lacks the permission
	method, route string // the API route the action mirrors ("" when it has none)
	page          string // the page that shows the action to those allowed
	action        string // the form's action on that page
	post          string // the forged POST's path
	form          url.Values
	state         func() string // the object acted on, unchanged by a refusal
}

// selfService are actions each person takes on their own account only: nothing a
// role could lack.
var selfService = map[string]string{
	"POST /app/signout": "ends the caller's own session",
	// Passkeys are the caller's own second factor: the store deletes and adds only
	// under the session's own user (store.DeletePasskey matches user and tenant).
	"POST /app/passkeys":             "adds a passkey to the caller's own account",
	"POST /app/passkeys/options":     "starts the caller's own passkey enrolment",
	"POST /app/passkeys/{id}/remove": "removes one of the caller's own passkeys",
}

// operatorOnly are the instance operator's actions. No tenant role holds them (the
// owner included), so no owner is offered the form this test compares against;
// TestInstanceOperator forges each as a tenant's owner and viewer and proves the 403
// and that nothing was created.
var operatorOnly = map[string]string{
	"POST /app/instance/tenants": "creates a tenant and invites its owner: operators only",
}

// TestEveryActionRefusedWithoutPermission walks every POST the dashboard registers:
// for each, a person whose role lacks the API scope behind it sees no button (or
// cannot open the page), a forged POST carrying their valid form token is refused
// with 403, and the object is unchanged. A route registered without a case here
// fails the test by name.
func TestEveryActionRefusedWithoutPermission(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ctx := context.Background()
		ten, key := e.addTenant("northside", "clinic.example")
		held := e.held(key)
		sent := e.sendOne(key)
		owner := e.person(ten, "owner@clinic.example", people.RoleOwner)
		cookies := map[string]string{}
		for _, r := range []string{people.RoleViewer, people.RoleDeveloper, people.RoleMarketer, people.RoleCompliance} {
			cookies[r] = e.person(ten, r+"@clinic.example", r)
		}
		ownerSess, err := e.srv.People.Session(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		keyID := keyID(t, e, ten)
		// The person acted on by the people actions: one the owner may change.
		var devID string
		us, err := e.srv.DB.Users(ctx, ten)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if u.Role == people.RoleDeveloper {
				devID = u.ID
			}
		}

		events := func(id string) func() string {
			return func() string {
				es, err := e.srv.DB.Events(ctx, store.EventFilter{TenantID: ten, MessageID: id, Limit: store.MaxPage})
				if err != nil {
					t.Fatal(err)
				}
				m, err := e.srv.DB.Message(ctx, ten, id)
				if err != nil {
					t.Fatal(err)
				}
				var ts []string
				for _, ev := range es {
					ts = append(ts, ev.Type)
				}
				return fmt.Sprint(m.Quarantined, ts)
			}
		}
		keys := func() string {
			ks, err := e.srv.DB.APIKeys(ctx, ten)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range ks {
				out = append(out, k.ID+":"+fmt.Sprint(k.RevokedAt.IsZero()))
			}
			return strings.Join(out, ",")
		}
		users := func() string {
			us, err := e.srv.DB.Users(ctx, ten)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, u := range us {
				out = append(out, fmt.Sprint(u.Email, u.Role, u.MFAEnabled, u.DisabledAt.IsZero()))
			}
			return strings.Join(out, ",")
		}
		audited := func(action string) func() string {
			return func() string { return fmt.Sprint(auditCount(t, e, ten, action)) }
		}
		ownerSessions, err := e.srv.People.Sessions(ctx, ownerSess, false)
		if err != nil || len(ownerSessions) == 0 {
			t.Fatalf("owner's sessions: %v", err)
		}
		sessionLive := func() string {
			_, err := e.srv.People.Session(ctx, owner)
			return fmt.Sprint(err)
		}

		cases := map[string]ruleCase{
			"POST /app/messages/{id}/revoke": {people.RoleCompliance, "POST", "/v1/messages/{id}/revoke",
				"/app/messages/" + sent, "/app/messages/" + sent + "/revoke", "/app/messages/" + sent + "/revoke", nil, events(sent)},
			"POST /app/messages/{id}/release": {people.RoleDeveloper, "POST", "/v1/messages/{id}/release",
				"/app/messages/" + held, "/app/messages/" + held + "/release", "/app/messages/" + held + "/release", nil, events(held)},
			"POST /app/messages/{id}/delete": {people.RoleMarketer, "DELETE", "/v1/messages/{id}",
				"/app/quarantine", "/app/messages/" + held + "/delete", "/app/messages/" + held + "/delete", nil, events(held)},
			"POST /app/keys": {people.RoleDeveloper, "POST", "/v1/keys",
				"/app/keys", "/app/keys", "/app/keys", url.Values{"name": {"forged"}, "scopes": {"admin"}}, keys},
			"POST /app/keys/{id}/revoke": {people.RoleCompliance, "DELETE", "/v1/keys/{id}",
				"/app/keys", "/app/keys/" + keyID + "/revoke", "/app/keys/" + keyID + "/revoke", nil, keys},
			"POST /app/audit/verify": {people.RoleViewer, "GET", "/v1/audit",
				"/app/audit", "/app/audit/verify", "/app/audit/verify", nil, audited("audit.verify")},
			"POST /app/audit/checkpoint": {people.RoleDeveloper, "GET", "/v1/audit",
				"/app/audit", "/app/audit/checkpoint", "/app/audit/checkpoint", nil, audited("audit.checkpoint_export")},
			"POST /app/people/invite": {people.RoleCompliance, "", "",
				"/app/people", "/app/people/invite", "/app/people/invite", url.Values{"email": {"x@clinic.example"}, "role": {"owner"}}, users},
			"POST /app/people/{id}/disable": {people.RoleMarketer, "", "",
				"/app/people", "/app/people/" + devID + "/disable", "/app/people/" + devID + "/disable", nil, users},
			"POST /app/people/{id}/reset-mfa": {people.RoleViewer, "", "",
				"/app/people", "/app/people/" + devID + "/reset-mfa", "/app/people/" + devID + "/reset-mfa", nil, users},
			// Another person's session: only those who manage people may end it.
			"POST /app/sessions/{id}/revoke": {people.RoleViewer, "", "",
				"/app/sessions", "/app/sessions/" + ownerSessions[0].ID + "/revoke", "/app/sessions/" + ownerSessions[0].ID + "/revoke", nil, sessionLive},
		}
		for k, c := range setupCases(t, e, ten, key) {
			cases[k] = c
		}
		for k, c := range journeyCases(t, e, key) {
			cases[k] = c
		}
		for k, c := range campaignCases(t, e, ten, key) {
			cases[k] = c
		}
		for k, c := range archiveCases(t, e, ten, key) {
			cases[k] = c
		}

		var uncovered []string
		for _, r := range e.srv.Web.Routes() {
			if !strings.HasPrefix(r.Pattern, "POST ") || r.Stage != people.StageFull {
				continue
			}
			if _, ok := selfService[r.Pattern]; ok {
				continue
			}
			if _, ok := operatorOnly[r.Pattern]; ok {
				continue
			}
			c, ok := cases[r.Pattern]
			if !ok {
				uncovered = append(uncovered, r.Pattern)
				continue
			}
			t.Run(r.Pattern, func(t *testing.T) {
				role, _ := people.Role(c.role)
				if c.route != "" {
					scope, ok := api.RouteScope(c.method, c.route)
					if !ok {
						t.Fatalf("no API route %s %s", c.method, c.route)
					}
					if (&tenant.Principal{Scopes: role.Scopes}).Can(scope) {
						t.Fatalf("role %s holds %s: choose a role without it", c.role, scope)
					}
				} else if role.People {
					t.Fatalf("role %s manages people: choose a role that does not", c.role)
				}
				// The case names a form that really exists: the owner is offered it.
				if _, body := e.page(owner, c.page); !strings.Contains(body, `action="`+c.action+`"`) {
					t.Errorf("the owner is not offered %s on %s: the case tests nothing", c.action, c.page)
				}
				cookie := cookies[c.role]
				// The page offers no such action, or is refused.
				if s, body := e.page(cookie, c.page); s == 200 && strings.Contains(body, `action="`+c.action+`"`) {
					t.Errorf("%s is offered to a %s on %s", c.action, c.role, c.page)
				} else if s != 200 && s != 403 {
					t.Errorf("%s for a %s: %d", c.page, c.role, s)
				}
				// A forged POST with a valid form token is refused; nothing changes.
				_, any := e.page(cookie, "/app/sessions")
				form := url.Values{"csrf": {formToken(t, any)}}
				for k, v := range c.form {
					form[k] = v
				}
				before := c.state()
				if s, body := e.form(cookie, c.post, form); s != 403 {
					t.Errorf("forged POST %s by a %s: %d %.300s", c.post, c.role, s, body)
				}
				if after := c.state(); after != before {
					t.Errorf("forged POST %s by a %s changed the object:\n%s\n%s", c.post, c.role, before, after)
				}
			})
		}
		if len(uncovered) > 0 {
			slices.Sort(uncovered)
			t.Errorf("mutating dashboard routes without a permission case in TestEveryActionRefusedWithoutPermission (add one, or list a self-service route in selfService): %s", strings.Join(uncovered, ", "))
		}
	})
}
