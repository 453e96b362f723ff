package browsertest

import (
	"net/http"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// TestCookieAttributesOverLoopbackHTTP records what Chromium does with a
// session-style cookie (HttpOnly; Secure; SameSite=Strict) served over plain
// http from 127.0.0.1. Chromium treats loopback as potentially trustworthy,
// so the Secure cookie is kept even without TLS; the portal's local tests
// rely on that.
func TestCookieAttributesOverLoopbackHTTP(t *testing.T) {
	t.Parallel()
	b := Start(t)
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /login": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "sid=s3cr3t; Path=/; HttpOnly; Secure; SameSite=Strict")
			w.Header().Add("Set-Cookie", "theme=dark; Path=/; SameSite=Lax")
			htmlPage(`<p>in</p>`)(w, r)
		},
	})
	b.Navigate(srv.URL + "/login")

	byName := map[string]*network.Cookie{}
	for _, c := range b.Cookies(srv.URL) {
		byName[c.Name] = c
	}
	sid := byName["sid"]
	if sid == nil {
		t.Fatalf("Secure cookie over http://127.0.0.1 was dropped; cookies: %v", keys(byName))
	}
	if sid.Value != "s3cr3t" || !sid.HTTPOnly || !sid.Secure || sid.SameSite != network.CookieSameSiteStrict {
		t.Errorf("sid = {value %q httpOnly %v secure %v sameSite %q}, want s3cr3t/true/true/Strict",
			sid.Value, sid.HTTPOnly, sid.Secure, sid.SameSite)
	}
	theme := byName["theme"]
	if theme == nil || theme.HTTPOnly || theme.Secure || theme.SameSite != network.CookieSameSiteLax {
		t.Errorf("theme cookie = %+v, want a plain Lax cookie", theme)
	}

	// HttpOnly must hide the session cookie from the page's scripts.
	var jsCookies string
	b.Run(evalInto(`document.cookie`, &jsCookies))
	if jsCookies != "theme=dark" {
		t.Errorf("document.cookie = %q, want only theme=dark", jsCookies)
	}

	// Cookies are scoped by host: none of them belong to another host.
	if other := b.Cookies("http://localhost:1/"); len(other) != 0 {
		t.Errorf("cookies for another host: %d, want 0", len(other))
	}
}

func keys(m map[string]*network.Cookie) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
