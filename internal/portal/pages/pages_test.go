package pages

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

const token = "csrf-token-123"

// samples is one representative value of every page, with banners, CSRF
// and a logo set so every optional part of the layout is exercised.
func samples() map[string]any {
	page := func(title string) Page {
		return Page{
			Brand:  Brand{Name: "Northside Clinic", LogoURL: "/p/static/logo/northside.png"},
			Title:  title,
			Prefix: "/p/AbC123",
			CSRF:   token,
			Notice: "Your reply was sent securely.",
			Error:  "That did not work.",
		}
	}
	return map[string]any{
		"landing":            Landing{Page: page("Secure message"), MaskedAddress: "p•••@example.org", ExpiresAt: when},
		"landing passphrase": &Landing{Page: page("Secure message"), Passphrase: true, ExpiresAt: when},
		"code sent":          CodeEntry{Page: page("Enter code"), MaskedAddress: "p•••@example.org", Sent: true, CodeMinutes: 10, Digits: 6},
		"code wrong":         CodeEntry{Page: page("Enter code"), MaskedAddress: "p•••@example.org", Digits: 6, AttemptsLeft: 2},
		"locked":             Locked{Page: page("Locked"), Until: when},
		"message text": Message{
			Page: page("Lab results"), From: "Northside Clinic <results@northside.example>", To: "pat@example.org",
			Subject: "Your lab results", Date: when, ExpiresAt: when.AddDate(0, 0, 30),
			Text:        "Dear patient,\n\nYour results are attached.\n",
			Files:       []File{{Name: "results.pdf", Size: "2.1 MB", URL: "/p/AbC123/f/1", Type: "PDF document"}, {Name: "notes.txt", URL: "/p/AbC123/f/2"}},
			Replies:     []Reply{{At: when, Text: "Thank you.", Attachments: []string{"question.pdf"}}, {At: when.Add(3600e9), Text: "One more thing."}},
			MaxUploadMB: 25,
		},
		"message html": Message{
			Page: page("Lab results"), From: "results@northside.example", To: "pat@example.org",
			Subject: "Your lab results", Date: when, HTMLURL: "/p/AbC123/m/body",
		},
		"gone":    Gone{Page: page("Gone")},
		"problem": Problem{Page: page("Problem"), Heading: "Your session has ended", Detail: "Please open the link again.", Back: "/p/AbC123"},
	}
}

// TestAccessibleAndCSPSafe checks the structural rules every page must
// follow, on every page type.
func TestAccessibleAndCSPSafe(t *testing.T) {
	for name, data := range samples() {
		t.Run(name, func(t *testing.T) {
			_, doc := renderPage(t, data)
			for _, problem := range audit(doc, token) {
				t.Error(problem)
			}
		})
	}
}

// audit lists every rule the document breaks.
func audit(doc *html.Node, csrf string) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if n := len(elements(doc, "h1")); n != 1 {
		fail("found %d <h1>, want 1", n)
	}
	if htmls := elements(doc, "html"); len(htmls) != 1 {
		fail("found %d <html>", len(htmls))
	} else if lang, _ := attr(htmls[0], "lang"); lang != "en" {
		fail(`<html lang=%q>, want "en"`, lang)
	}
	for _, tag := range []string{"script", "style"} {
		if n := len(elements(doc, tag)); n != 0 {
			fail("found %d <%s>", n, tag)
		}
	}
	for _, landmark := range []string{"header", "main", "footer"} {
		if n := len(elements(doc, landmark)); n != 1 {
			fail("found %d <%s>, want 1", n, landmark)
		}
	}
	if m := byID(doc, "main"); m == nil || m.Data != "main" {
		fail(`no <main id="main">`)
	}
	if !strings.Contains(bodyText(doc), "Skip to content") {
		fail("no skip link")
	}

	labels := map[string]bool{}
	for _, l := range elements(doc, "label") {
		if v, ok := attr(l, "for"); ok {
			labels[v] = true
		}
	}
	ids := map[string]int{}
	for _, n := range elements(doc, "") {
		if id, ok := attr(n, "id"); ok {
			ids[id]++
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			if key == "style" {
				fail("<%s> has a style attribute", n.Data)
			}
			if strings.HasPrefix(key, "on") {
				fail("<%s> has event handler %s", n.Data, a.Key)
			}
		}
		switch n.Data {
		case "input", "textarea", "select":
			if typ, _ := attr(n, "type"); typ == "hidden" {
				continue
			}
			id, _ := attr(n, "id")
			if id == "" || !labels[id] {
				fail("<%s name=%q> has no <label for>", n.Data, id)
			}
		case "img":
			if _, ok := attr(n, "alt"); !ok {
				fail("<img> without alt")
			}
		case "iframe":
			if sb, ok := attr(n, "sandbox"); !ok || sb != "allow-popups allow-popups-to-escape-sandbox" {
				fail("iframe sandbox = %q (present %v)", sb, ok)
			}
			if title, _ := attr(n, "title"); title == "" {
				fail("iframe without title")
			}
		case "form":
			if method, _ := attr(n, "method"); strings.EqualFold(method, "post") && csrf != "" && !hasCSRF(n, csrf) {
				action, _ := attr(n, "action")
				fail("POST form %q has no csrf field", action)
			}
		}
	}
	for id, n := range ids {
		if n > 1 {
			fail("id %q used %d times", id, n)
		}
	}
	// Every id a field points at must exist, or the description is lost.
	for _, n := range elements(doc, "") {
		v, ok := attr(n, "aria-describedby")
		if !ok {
			continue
		}
		if strings.TrimSpace(v) == "" {
			fail("<%s> has an empty aria-describedby", n.Data)
		}
		for _, id := range strings.Fields(v) {
			if ids[id] == 0 {
				fail("<%s> is described by missing id %q", n.Data, id)
			}
		}
	}
	return problems
}

func hasCSRF(form *html.Node, csrf string) bool {
	for _, in := range elements(form, "input") {
		typ, _ := attr(in, "type")
		name, _ := attr(in, "name")
		val, _ := attr(in, "value")
		if typ == "hidden" && name == "csrf" && val == csrf {
			return true
		}
	}
	return false
}

// TestAuditCatchesViolations makes sure the audit can fail: a document that
// is clean except for one broken rule must be reported.
func TestAuditCatchesViolations(t *testing.T) {
	page := func(lang, main string) string {
		return `<html` + lang + `><body><a href="#main">Skip to content</a><header></header>` +
			`<main id="main"><h1>a</h1>` + main + `</main><footer></footer></body></html>`
	}
	const en = ` lang="en"`
	cases := map[string]string{
		"clean":        page(en, `<label for="q">Q</label><input id="q" aria-describedby="h"><p id="h">hint</p>`),
		"two h1":       page(en, `<h1>b</h1>`),
		"script":       page(en, `<script>x()</script>`),
		"style":        page(en, `<style>p{}</style>`),
		"inline style": page(en, `<p style="color:red">a</p>`),
		"handler":      page(en, `<p onclick="x()">a</p>`),
		"no label":     page(en, `<input id="q">`),
		"no csrf":      page(en, `<form method="post"></form>`),
		"sandbox":      page(en, `<iframe sandbox="allow-scripts allow-popups" title="t"></iframe>`),
		"iframe title": page(en, `<iframe sandbox="allow-popups allow-popups-to-escape-sandbox"></iframe>`),
		"img alt":      page(en, `<img src="/x">`),
		"lang":         page(``, ``),
		"described-by": page(en, `<label for="q">Q</label><input id="q" aria-describedby="gone">`),
		"duplicate id": page(en, `<p id="x"></p><p id="x"></p>`),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			got := audit(doc, token)
			if name == "clean" {
				if len(got) != 0 {
					t.Errorf("clean document reported: %v", got)
				}
				return
			}
			if len(got) == 0 {
				t.Errorf("audit found nothing, want the %s violation reported", name)
			}
		})
	}
}
