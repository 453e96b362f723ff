package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// TestArchivePageInBrowser walks the archive page in Chromium as a compliance officer:
// search by subject words, open the message in the sanitised viewer, place and release
// a hold, set and delete a retention rule; each action is in the audit trail as the
// API's are. A viewer and a developer are refused the page and every forged POST.
// Every page loads with no console message, no CSP violation and no request elsewhere;
// axe finds nothing serious.
func TestArchivePageInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel()
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		s, out := e.api("POST", "/v1/messages", key, map[string]any{"from": "Lab <lab@clinic.example>", "to": []string{"pat@patient.example"},
			"subject": "Thyroid panel results", "text": "Your TSH is within range.",
			"html": `<p style="color:red">Your <b>TSH</b> is within range.<img src="https://tracker.example/p.png"></p>`})
		if s != 202 {
			t.Fatalf("send: %d %v", s, out)
		}
		e.api("POST", "/v1/messages", key, map[string]any{"from": "lab@clinic.example", "to": []string{"other@patient.example"},
			"subject": "Appointment reminder", "text": "See you on Monday."})
		// Another organisation's message and hold.
		other, otherKey := e.addTenant("southside", "south.example")
		if s, out := e.api("POST", "/v1/messages", otherKey, map[string]any{"from": "lab@south.example", "to": []string{"pat@patient.example"},
			"subject": "Southside biopsy", "text": "Private to southside."}); s != 202 {
			t.Fatalf("send: %d %v", s, out)
		}
		otherWho := archive.Actor{TenantID: other, Principal: "test"}
		foreignHold, err := e.srv.Archive.PlaceHold(context.Background(), otherWho, archive.Hold{Name: "southside matter", Address: "pat@patient.example"})
		if err != nil {
			t.Fatal(err)
		}
		// The worker's index job makes the words searchable; this server runs no workers.
		if _, err := e.srv.Archive.IndexPending(context.Background()); err != nil {
			t.Fatal(err)
		}

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
		enrol := func(email, role, password string) {
			t.Helper()
			b.Navigate(e.invite(ten, email, role))
			b.Fill("#password", password)
			b.Fill("#confirm", password)
			b.Click(`button[type=submit]`)
			b.Fill("#code", e.code(strings.TrimSpace(b.Text("code.secret"))))
			b.Click(`button[type=submit]`)
		}
		check := func(page string) {
			t.Helper()
			w.check(t, b, e.base, page)
			browsertest.CheckAxe(t, b, axe, page)
		}

		enrol("officer@clinic.example", people.RoleCompliance, "copper willow lantern")
		b.Navigate(e.base + "/app/archive")
		check("/app/archive")
		if !strings.Contains(b.Text("nav"), "Archive") {
			t.Errorf("the compliance role's navigation lacks the archive: %s", b.Text("nav"))
		}
		b.Fill("#subject", "thyroid")
		b.Click(`form[action="/app/archive/search"] button`)
		check("search")
		shot(t, b, dir, "archive-search")
		results := b.Text("#results tbody")
		if !strings.Contains(results, "Thyroid panel results") || strings.Contains(results, "Appointment") {
			t.Fatalf("search by subject:\n%s", results)
		}
		// The criteria stayed in the form and out of the URL.
		if strings.Contains(b.Location(), "thyroid") {
			t.Errorf("search words in the URL: %s", b.Location())
		}
		b.Click(`#results a`)
		check("entry")
		if !strings.Contains(b.Text("main"), "TSH is within range") || !strings.Contains(b.Text("main"), "pat@patient.example") {
			t.Fatalf("entry page:\n%s", b.Text("main"))
		}
		b.Click(`a[href$="/view"]`)
		w.check(t, b, e.base, "view")
		if html := b.HTML(); !strings.Contains(html, "<b>TSH</b>") || strings.Contains(html, "tracker.example") {
			t.Fatalf("viewer did not sanitise:\n%s", html)
		}

		// Another organisation's entry and hold are not there.
		page, err := e.srv.Archive.Search(context.Background(), otherWho, archive.Query{}, "", 10)
		if err != nil || len(page.Results) != 1 {
			t.Fatalf("southside's archive: %v %v", page, err)
		}
		b.Navigate(e.base + "/app/archive/entries/" + page.Results[0].ID)
		if !strings.Contains(b.Text("main"), "another organisation") || strings.Contains(b.HTML(), "biopsy") {
			t.Errorf("another tenant's entry:\n%s", b.Text("main"))
		}
		b.Navigate(e.base + "/app/archive/entries/" + page.Results[0].ID + "/view")
		if strings.Contains(b.HTML(), "Private to southside") {
			t.Error("another tenant's entry was viewed")
		}

		// A bad search names every problem at once.
		b.Navigate(e.base + "/app/archive")
		b.Fill("#body", "!!!")
		b.Fill("#since", "2026-06-02")
		b.Fill("#until", "2026-06-01")
		b.Click(`form[action="/app/archive/search"] button`)
		if msg := b.Text(".error"); !strings.Contains(msg, "body:") || !strings.Contains(msg, "until:") {
			t.Errorf("bad search: %q", msg)
		}
		check("bad search")

		// A hold placed and released, a rule set and deleted.
		b.Navigate(e.base + "/app/archive")
		b.Fill("#hold-name", "Matter 2026-14")
		b.Fill("#hold-address", "pat@patient.example")
		b.Click(`form[action="/app/archive/holds"] button`)
		if !strings.Contains(b.Text("main"), "hold was placed") || !strings.Contains(b.Text("#holds"), "Matter 2026-14") {
			t.Fatalf("place hold:\n%s", b.Text("main"))
		}
		check("hold placed")
		shot(t, b, dir, "archive-holds")
		b.Click(`#holds form button`)
		if strings.Contains(b.Text("#holds"), "Matter 2026-14") {
			t.Fatalf("release hold:\n%s", b.Text("#holds"))
		}
		b.Fill("#rule-days", "3650")
		b.Fill("#rule-tag", "lab")
		b.Click(`form[action="/app/archive/retention"] button`)
		if !strings.Contains(b.Text("#rules"), "3650") {
			t.Fatalf("set rule:\n%s", b.Text("main"))
		}
		check("rule set")
		b.Fill("#rule-days", "none")
		b.Click(`form[action="/app/archive/retention"] button`)
		if !strings.Contains(b.Text(".error"), "days:") {
			t.Errorf("a bad rule: %q", b.Text("main"))
		}
		b.Click(`#rules form button`)
		if strings.Contains(b.Text("#rules"), "3650") {
			t.Fatalf("delete rule:\n%s", b.Text("#rules"))
		}
		for action, want := range map[string]int{archive.ActionSearch: 1, archive.ActionView: 2, archive.ActionHold: 1,
			archive.ActionReleaseHold: 1, archive.ActionRetention: 2} {
			if n := auditCount(t, e, ten, action); n != want {
				t.Errorf("%d %s entries in the audit trail, want %d", n, action, want)
			}
		}
		// The officer's form token does not reach another organisation's hold.
		b.Navigate(e.base + "/app/archive")
		var officerCookie string
		for _, c := range b.Cookies(e.base) {
			if c.Name == "__Host-sealpost" {
				officerCookie = c.Value
			}
		}
		if s, _ := e.form(officerCookie, "/app/archive/holds/"+foreignHold.ID+"/release", url.Values{"csrf": {formToken(t, b.HTML())}}); s != 404 {
			t.Errorf("releasing another tenant's hold: %d", s)
		}
		holdID := ""
		if hs, err := e.srv.Archive.PlaceHold(context.Background(), archive.Actor{TenantID: ten, Principal: "test"},
			archive.Hold{Name: "kept", Address: "pat@patient.example"}); err == nil {
			holdID = hs.ID
		} else {
			t.Fatal(err)
		}

		// A viewer and a developer: no archive in the navigation, the page refused,
		// every action refused even with a valid form token.
		for _, p := range []struct{ email, role string }{{"viewer@clinic.example", people.RoleViewer}, {"dev@clinic.example", people.RoleDeveloper}} {
			b.Click(`form[action="/app/signout"] button`)
			enrol(p.email, p.role, "amber meadow "+p.role)
			b.Navigate(e.base + "/app/overview")
			if strings.Contains(b.Text("nav"), "Archive") {
				t.Errorf("a %s's navigation offers the archive", p.role)
			}
			b.Navigate(e.base + "/app/archive")
			if !strings.Contains(b.Text("main"), "does not allow") {
				t.Errorf("a %s opened the archive:\n%s", p.role, b.Text("main"))
			}
			var cookie string
			for _, c := range b.Cookies(e.base) {
				if c.Name == "__Host-sealpost" {
					cookie = c.Value
				}
			}
			b.Navigate(e.base + "/app/overview")
			csrf := formToken(t, b.HTML())
			for _, f := range []struct {
				path string
				v    url.Values
			}{
				{"/app/archive/search", url.Values{"csrf": {csrf}, "subject": {"thyroid"}}},
				{"/app/archive/holds", url.Values{"csrf": {csrf}, "name": {"forged"}, "address": {"pat@patient.example"}}},
				{"/app/archive/holds/" + holdID + "/release", url.Values{"csrf": {csrf}}},
				{"/app/archive/retention", url.Values{"csrf": {csrf}, "days": {"1"}}},
			} {
				if s, body := e.form(cookie, f.path, f.v); s != 403 || strings.Contains(body, "Thyroid") {
					t.Errorf("a %s's forged POST %s: %d", p.role, f.path, s)
				}
			}
		}
		if hs, _ := e.srv.Archive.Holds(context.Background(), otherWho, false); len(hs) != 1 || hs[0].ID != foreignHold.ID {
			t.Errorf("another tenant's hold changed: %v", hs)
		}
		hs, err := e.srv.Archive.Holds(context.Background(), archive.Actor{TenantID: ten, Principal: "test"}, false)
		if err != nil || len(hs) != 1 || hs[0].ID != holdID {
			t.Errorf("forged POSTs changed the holds: %v %v", hs, err)
		}
		rules, _ := e.srv.Archive.Rules(context.Background(), archive.Actor{TenantID: ten, Principal: "test"})
		if len(rules) != 0 {
			t.Errorf("a forged POST set a rule: %v", rules)
		}
	})
}
