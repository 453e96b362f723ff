package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// join accepts an invitation in the browser and sets up TOTP: the person is signed in.
func (e *env) join(b *browsertest.Browser, link, password string) {
	e.t.Helper()
	b.Navigate(link)
	b.Fill("#password", password)
	b.Fill("#confirm", password)
	b.Click(`button[type=submit]`)
	secret := strings.TrimSpace(b.Text("code.secret"))
	b.Fill("#code", e.code(secret))
	b.Click(`button[type=submit]`)
}

// apiRaw calls the REST API and returns the body as it came.
func (e *env) apiRaw(path, key string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestReportsInBrowser: the overview's numbers equal GET /v1/stats for the periods it
// names, and its charts draw with this origin's scripts only; a viewer splits the
// numbers on the reports page and downloads the CSV the API gives; the compliance
// reports open for the compliance role and not for a viewer. Every page loads with no
// console message, CSP violation or request elsewhere, and passes axe.
func TestReportsInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		t.Parallel() // the two databases' walks share nothing
		e := newEnv(t, dbURL)
		ten, key := e.addTenant("northside", "clinic.example")
		send := func(to, campaign, text string) {
			s, out := e.api("POST", "/v1/messages", key, map[string]any{"from": "lab@clinic.example", "to": []string{to},
				"subject": "Your results", "text": text, "campaign": campaign})
			if s != 202 {
				t.Fatalf("send: %d %v", s, out)
			}
		}
		send("a@patient.example", "flu-2026", "See you soon.")
		send("b@patient.example", "flu-2026", "See you soon.")
		send("c@other.example", "=cmd|' /C calc'!A0", "See you soon.")
		send("pat@patient.example", "", "Patient SSN: 512-44-6789. Results attached.")

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
		// again loads a variant of a page axe has checked: the watch only.
		again := func(path string) {
			t.Helper()
			b.Navigate(e.base + path)
			w.check(t, b, e.base, path)
		}
		visit := func(path, name string) {
			t.Helper()
			b.Navigate(e.base + path)
			w.check(t, b, e.base, path)
			browsertest.CheckAxe(t, b, axe, path)
			if name != "" {
				shot(t, b, dir, name)
			}
		}

		e.join(b, e.invite(ten, "viewer@clinic.example", people.RoleViewer), "amber lantern meadow")
		visit("/app/overview", "overview-charts")

		// The charts are drawn, by this origin's scripts, from the page's numbers.
		canvases, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[int](`document.querySelectorAll(".chart canvas").length`))
		if err != nil || canvases != 2 {
			t.Fatalf("%d charts drawn: %v", canvases, err)
		}
		// What the page loads, for the record (the files are cached an hour).
		loaded, _ := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).map(e => e.name.replace(/^.*\/app\//, "") + " " + e.decodedBodySize).join(", ")`))
		t.Logf("the overview loads: %s", loaded)
		// Each column's numbers are those of GET /v1/stats for the period it names.
		rows := map[string]string{"accepted": "accepted", "in_queue": "in_queue", "delivered": "delivered", "opened": "opened",
			"clicked": "clicked", "failed": "failed", "bounced": "bounced"}
		for col := 1; col <= 3; col++ {
			from, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`document.querySelector("#overview thead th:nth-child(`+strconv.Itoa(col+1)+`)").dataset.from`))
			if err != nil {
				t.Fatal(err)
			}
			to, _ := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`document.querySelector("#overview thead th:nth-child(`+strconv.Itoa(col+1)+`)").dataset.to`))
			s, st := e.api("GET", "/v1/stats?"+url.Values{"from": {from}, "to": {to}}.Encode(), key, nil)
			if s != 200 {
				t.Fatalf("stats: %d %v", s, st)
			}
			totals := st["groups"].([]any)[0].(map[string]any)["totals"].(map[string]any)
			for typ, field := range rows {
				got := b.Text(`tr[data-type="` + typ + `"] td:nth-of-type(` + strconv.Itoa(col) + `)`)
				if want := strconv.FormatFloat(totals[field].(float64), 'f', -1, 64); got != want {
					t.Errorf("overview %s column %d: %s, /v1/stats says %s", typ, col, got, want)
				}
			}
			if col == 1 && totals["accepted"] != 4.0 {
				t.Fatalf("accepted in 24 h: %v", totals["accepted"])
			}
		}
		if q := b.Text("#queued"); q != "4" || b.Text("#oldest") == "" {
			t.Errorf("queue: %q waiting, oldest %q", q, b.Text("#oldest"))
		}
		again("/app/overview?period=24h")

		// A viewer splits by campaign; the CSV is the API's.
		visit("/app/reports?period=7d&group_by=campaign", "reports")
		if got := b.Text(`#report tbody`); !strings.Contains(got, "flu-2026") || !strings.Contains(got, "=cmd") {
			t.Fatalf("report by campaign:\n%s", got)
		}
		if got := b.Text(`#report tr[data-key] td[data-rate="ctr"]`); got != "0.0 %" {
			t.Errorf("click-through rate: %q", got)
		}
		href, err := chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`document.querySelector("#csv").href`))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(href)
		csv, _ := b.Download("#csv")
		s, api := e.apiRaw("/v1/stats?format=csv&"+u.RawQuery, key)
		if s != 200 || string(csv) != api || !strings.Contains(api, "'=cmd") {
			t.Fatalf("the page's CSV differs from the API's (%d):\n%s\n---\n%s", s, csv, api)
		}
		again("/app/reports?group_by=metadata&field=")
		if !strings.Contains(b.Text("main"), "custom field") {
			t.Errorf("an empty custom field was not explained:\n%s", b.Text("main"))
		}

		// The compliance reports are not a viewer's.
		if nav := b.Text("nav"); !strings.Contains(nav, "Reports") || strings.Contains(nav, "Disclosures") || strings.Contains(nav, "DLP") {
			t.Errorf("a viewer's navigation: %s", nav)
		}
		for _, p := range []string{"/app/compliance/dlp", "/app/compliance/disclosures?address=pat@patient.example"} {
			b.Navigate(e.base + p)
			if !strings.Contains(b.Text("main"), "does not allow") {
				t.Errorf("a viewer opened %s:\n%s", p, b.Text("main"))
			}
		}

		// A compliance officer reads them, with the numbers the API gives.
		b.Click(`form[action="/app/signout"] button`)
		e.join(b, e.invite(ten, "privacy@clinic.example", people.RoleCompliance), "quiet orchard lantern")
		visit("/app/compliance/dlp?period=24h", "dlp")
		if got := b.Text(`#dlp tr[data-category="ssn"]`); !strings.Contains(got, "1") {
			t.Errorf("DLP by category:\n%s", b.Text("#dlp"))
		}
		visit("/app/compliance/disclosures?period=30d&address=pat@patient.example", "disclosures")
		if got := b.Text("#disclosures tbody"); !strings.Contains(got, "Your results") || !strings.Contains(got, "ssn") {
			t.Errorf("disclosures:\n%s", got)
		}
		href, err = chromedp.Run(b.Ctx(), chromedp.Evaluate[string](`document.querySelector("#csv").href`))
		if err != nil {
			t.Fatal(err)
		}
		u, _ = url.Parse(href)
		csv, _ = b.Download("#csv")
		s, api = e.apiRaw("/v1/reports/disclosures?format=csv&"+u.RawQuery, key)
		if s != 200 || string(csv) != api || !strings.Contains(api, "ssn") {
			t.Fatalf("the page's disclosures CSV differs from the API's (%d):\n%s\n---\n%s", s, csv, api)
		}
		again("/app/compliance/disclosures?period=30d&address=a@patient.example")
		if got := b.Text("#disclosures tbody"); !strings.Contains(got, "No message with PHI") {
			t.Errorf("disclosures to an address without PHI:\n%s", got)
		}
	})
}
