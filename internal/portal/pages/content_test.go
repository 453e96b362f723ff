package pages

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// hostile strings that would become markup if anything were left unescaped.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
}

func TestEscapesEverything(t *testing.T) {
	for _, evil := range hostile {
		page := Page{Brand: Brand{Name: evil}, Title: evil, Prefix: "/p/AbC123", CSRF: evil, Notice: evil, Error: evil}
		cases := map[string]any{
			"landing": Landing{Page: page, MaskedAddress: evil},
			"code":    CodeEntry{Page: page, MaskedAddress: evil, Sent: true, Digits: 6},
			"locked":  Locked{Page: page, Until: when},
			"message": Message{
				Page: page, From: evil, To: evil, Subject: evil, Text: evil,
				Files:   []File{{Name: evil, Size: evil, Type: evil, URL: "/f"}},
				Replies: []Reply{{At: when, Text: evil, Attachments: []string{evil}}},
			},
			"gone":    Gone{Page: page},
			"problem": Problem{Page: page, Heading: evil, Detail: evil},
		}
		for name, data := range cases {
			t.Run(name, func(t *testing.T) {
				_, doc := renderPage(t, data)
				if n := len(elements(doc, "script")); n != 0 {
					t.Errorf("%q produced %d <script>", evil, n)
				}
				if n := len(elements(doc, "img")); n != 0 {
					t.Errorf("%q produced %d <img>", evil, n)
				}
				for _, n := range elements(doc, "") {
					for _, a := range n.Attr {
						if strings.HasPrefix(a.Key, "on") {
							t.Errorf("%q produced <%s %s>", evil, n.Data, a.Key)
						}
					}
				}
				// The text must still be there, shown as text.
				if !strings.Contains(bodyText(doc), evil) {
					t.Errorf("%q is not shown literally in the page text", evil)
				}
			})
		}
	}
}

func TestUnsafeURLsNeutralised(t *testing.T) {
	for _, logo := range []string{"javascript:alert(1)", "//evil.example/logo.png", `/\evil.example/logo.png`, "https://evil.example/logo.png", "data:image/png;base64,AAAA"} {
		_, doc := renderPage(t, Gone{Page: Page{Brand: Brand{Name: "Clinic", LogoURL: logo}}})
		if imgs := elements(doc, "img"); len(imgs) != 0 {
			t.Errorf("logo %q rendered as <img>", logo)
		}
	}
	_, doc := renderPage(t, Message{Page: Page{Prefix: "/p/x"}, HTMLURL: "javascript:alert(1)", Files: []File{{Name: "a", URL: "javascript:alert(2)"}}})
	for _, n := range elements(doc, "") {
		for _, key := range []string{"src", "href"} {
			if v, _ := attr(n, key); strings.Contains(strings.ToLower(v), "javascript:") {
				t.Errorf("<%s %s=%q> kept a javascript: URL", n.Data, key, v)
			}
		}
	}
}

func TestGoneIsNeutral(t *testing.T) {
	brand := Brand{Name: "Northside Clinic", LogoURL: "/logo.png"}
	inputs := []Gone{
		{Page: Page{Brand: brand}},
		{Page: Page{Brand: brand, Title: "Expired", Prefix: "/p/AbC123", CSRF: "tok"}},
		{Page: Page{Brand: brand, Title: "Revoked", Error: "The sender withdrew this message.", Notice: "revoked"}},
		{Page: Page{Brand: brand, Title: "Unknown", Prefix: "/p/zzz", Notice: "no such message"}},
	}
	want, doc := renderPage(t, inputs[0])
	for _, phrase := range []string{"This message is not available", "The link may have expired, or the sender may have withdrawn the message. If you need it, contact the sender."} {
		if !strings.Contains(bodyText(doc), phrase) {
			t.Errorf("Gone page lacks %q", phrase)
		}
	}
	for i, in := range inputs[1:] {
		if got, _ := renderPage(t, &in); got != want {
			t.Errorf("input %d renders differently from the plain Gone page:\n%s\nwant\n%s", i+1, got, want)
		}
	}
	other, _ := renderPage(t, Gone{Page: Page{Brand: Brand{Name: "Eastgate Pharmacy"}}})
	if !strings.Contains(other, "Eastgate Pharmacy") || strings.Contains(other, "Northside") {
		t.Error("Gone page does not follow the brand")
	}
}

func TestRenderRejectsOtherTypes(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []any{nil, "hello", Page{}, struct{ Page }{}, (*Landing)(nil), &Page{}} {
		rec := httptest.NewRecorder()
		if err := r.Render(rec, 200, data); err == nil {
			t.Errorf("Render(%T) succeeded, want an error", data)
		}
		if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
			t.Errorf("Render(%T) wrote a response before failing", data)
		}
	}
	rec := httptest.NewRecorder()
	if err := r.Render(rec, 0, Gone{}); err == nil {
		t.Error("Render with status 0 succeeded, want an error")
	}
}

func TestRenderStatusAndContentType(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "text/plain")
	if err := r.Render(rec, http.StatusNotFound, Gone{}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", rec.Code)
	}
	if got := rec.Header().Values("Content-Type"); len(got) != 1 || got[0] != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
}

func TestTitle(t *testing.T) {
	cases := []struct {
		page Page
		want string
	}{
		{Page{}, "Secure message"},
		{Page{Title: "Enter code"}, "Enter code"},
		{Page{Title: "Enter code", Brand: Brand{Name: "Northside Clinic"}}, "Enter code · Northside Clinic"},
		{Page{Brand: Brand{Name: "Northside Clinic"}}, "Secure message · Northside Clinic"},
	}
	for _, c := range cases {
		_, doc := renderPage(t, Problem{Page: c.page})
		titles := elements(doc, "title")
		if len(titles) != 1 || text(titles[0]) != c.want {
			t.Errorf("title for %+v = %q, want %q", c.page, text(titles[0]), c.want)
		}
	}
}

func TestLanding(t *testing.T) {
	page := Page{Brand: Brand{Name: "Northside Clinic"}, Prefix: "/p/AbC123", CSRF: token}
	t.Run("code", func(t *testing.T) {
		_, doc := renderPage(t, Landing{Page: page, MaskedAddress: "p•••@example.org", ExpiresAt: when})
		f := forms(doc, "/p/AbC123/code")
		if len(f) != 1 || !slices.Equal(buttons(f[0]), []string{"Email me a code"}) {
			t.Fatalf("want one POST /code form with one 'Email me a code' button, got %d forms", len(f))
		}
		if len(forms(doc, "/p/AbC123/passphrase")) != 0 {
			t.Error("passphrase form shown without a passphrase")
		}
		body := bodyText(doc)
		for _, want := range []string{"p•••@example.org", "Available until Mon 9 Mar 2026, 15:30 UTC", "I already have a code"} {
			if !strings.Contains(body, want) {
				t.Errorf("landing lacks %q", want)
			}
		}
		if !hasLink(doc, "/p/AbC123/code", "I already have a code") {
			t.Error("no link to GET /code")
		}
	})
	t.Run("passphrase", func(t *testing.T) {
		_, doc := renderPage(t, Landing{Page: page, Passphrase: true})
		if len(forms(doc, "/p/AbC123/code")) != 0 {
			t.Error("code form shown alongside the passphrase form")
		}
		f := forms(doc, "/p/AbC123/passphrase")
		if len(f) != 1 {
			t.Fatalf("want one passphrase form, got %d", len(f))
		}
		in := byID(f[0], "passphrase")
		if in == nil {
			t.Fatal("no passphrase input")
		}
		if typ, _ := attr(in, "type"); typ != "password" {
			t.Errorf("passphrase type %q", typ)
		}
		if name, _ := attr(in, "name"); name != "passphrase" {
			t.Errorf("passphrase name %q", name)
		}
		if strings.Contains(bodyText(doc), "Available until") {
			t.Error("expiry shown without an ExpiresAt")
		}
	})
}

func hasLink(doc *html.Node, href, label string) bool {
	for _, a := range elements(doc, "a") {
		if h, _ := attr(a, "href"); h == href && text(a) == label {
			return true
		}
	}
	return false
}

func TestCodeEntry(t *testing.T) {
	page := Page{Prefix: "/p/AbC123", CSRF: token, Error: "That code is not right."}
	_, doc := renderPage(t, CodeEntry{Page: page, MaskedAddress: "p•••@example.org", Sent: true, CodeMinutes: 10, Digits: 6, AttemptsLeft: 1})
	body := bodyText(doc)
	for _, want := range []string{"We sent a 6-digit code to p•••@example.org", "expires in 10 minutes", "You have 1 attempt left", "That code is not right."} {
		if !strings.Contains(body, want) {
			t.Errorf("code page lacks %q", want)
		}
	}
	verify := forms(doc, "/p/AbC123/verify")
	if len(verify) != 1 || !slices.Equal(buttons(verify[0]), []string{"Continue"}) {
		t.Fatal("want one /verify form with a Continue button")
	}
	in := byID(verify[0], "code")
	if in == nil {
		t.Fatal("no code input")
	}
	want := map[string]string{"name": "code", "inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6", "pattern": "[0-9]{6}"}
	for k, v := range want {
		if got, _ := attr(in, k); got != v {
			t.Errorf("code input %s=%q, want %q", k, got, v)
		}
	}
	if d, _ := attr(in, "aria-describedby"); !slices.Contains(strings.Fields(d), "page-error") {
		t.Errorf("code input not described by the error (aria-describedby=%q)", d)
	}
	if alert := byID(doc, "page-error"); alert == nil {
		t.Error("no error banner")
	} else if role, _ := attr(alert, "role"); role != "alert" {
		t.Errorf("error banner role %q", role)
	}
	for _, l := range elements(doc, "label") {
		if f, _ := attr(l, "for"); f == "code" && text(l) != "Access code" {
			t.Errorf("code label %q", text(l))
		}
	}
	resend := forms(doc, "/p/AbC123/code")
	if len(resend) != 1 || !slices.Equal(buttons(resend[0]), []string{"Send a new code"}) {
		t.Fatal("want one /code form with a 'Send a new code' button")
	}

	_, quiet := renderPage(t, CodeEntry{Page: Page{Prefix: "/p/AbC123"}, Digits: 6})
	text := bodyText(quiet)
	if strings.Contains(text, "attempt") || strings.Contains(text, "We sent") {
		t.Errorf("code page without Sent/AttemptsLeft says too much: %q", text)
	}
}

func TestLockedShowsUTC(t *testing.T) {
	_, doc := renderPage(t, Locked{Until: when})
	if want := "Try again after Mon 9 Mar 2026, 15:30 UTC."; !strings.Contains(bodyText(doc), want) {
		t.Errorf("locked page lacks %q: %q", want, bodyText(doc))
	}
	tm := elements(doc, "time")
	if len(tm) != 1 {
		t.Fatalf("want one <time>, got %d", len(tm))
	}
	if dt, _ := attr(tm[0], "datetime"); dt != when.UTC().Format(time.RFC3339) {
		t.Errorf("datetime %q", dt)
	}
}
