package portal

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/portal/pages"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Page security: nothing is cached, nothing is sent as a referrer (the link carries the
// token), nothing frames the pages, and nothing loads from anywhere but here.
const (
	pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	// The message body runs with no script, no forms, no plugins, no same-origin access;
	// only links may open (in a new, unsandboxed tab).
	bodyCSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self';" +
		" sandbox allow-popups allow-popups-to-escape-sandbox"
)

// Handler serves the portal under /p/.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /p/static/portal.css", s.css)
	route := func(pattern string, h func(*request) error) {
		mux.Handle(pattern, s.wrap(pattern, h))
	}
	route("GET /p/{token}", s.landing)
	route("GET /p/{token}/code", s.codePage)
	route("POST /p/{token}/code", s.requestCode)
	route("POST /p/{token}/verify", s.verify)
	route("POST /p/{token}/passphrase", s.passphrase)
	route("GET /p/{token}/logo", s.logo)
	route("GET /p/{token}/m", s.message)
	route("GET /p/{token}/m/body", s.body)
	route("GET /p/{token}/cid/{cid}", s.inline)
	route("GET /p/{token}/a/{n}", s.download)
	route("POST /p/{token}/reply", s.reply)
	route("POST /p/{token}/logout", s.logout)
	mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w, pageCSP)
		_ = s.pages.Render(w, http.StatusNotFound, &pages.Gone{})
	})
	return mux
}

// request is one portal request with the copy its link names.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	copy   *store.PortalMessage
	keys   *tenant.Keys
	prefix string
	brand  pages.Brand
	org    string
}

func secureHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if csp == pageCSP {
		h.Set("X-Frame-Options", "DENY")
	} else {
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
}

// wrap resolves the link to its copy (or the neutral page), sets the security headers
// and logs the route pattern — never the path, which carries the token.
func (s *Service) wrap(pattern string, h func(*request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rid := hex.EncodeToString(seal.RandomBytes(8))
		w.Header().Set("X-Request-Id", rid)
		secureHeaders(w, pageCSP)
		sw := &httpx.StatusWriter{ResponseWriter: w}
		err := s.serve(sw, r, h)
		if err != nil {
			if errors.Is(err, errGone) {
				_ = s.pages.Render(sw, http.StatusNotFound, &pages.Gone{})
			} else if store.IsUnavailable(err) {
				s.log.Warn("portal request: database unavailable", "request", rid, "route", pattern, "err", err)
				if sw.Status == 0 {
					sw.Header().Set("Retry-After", strconv.Itoa(int(store.RetryAfter/time.Second)))
					_ = s.pages.Render(sw, http.StatusServiceUnavailable, &pages.Problem{Heading: "Briefly unavailable",
						Detail: "The secure message service cannot be reached right now. Nothing was changed. Please try again in a few minutes."})
				}
			} else {
				s.log.Error("portal request failed", "request", rid, "route", pattern, "err", err)
				if sw.Status == 0 {
					_ = s.pages.Render(sw, http.StatusInternalServerError, &pages.Problem{Heading: "Something went wrong",
						Detail: "The page could not be shown. Please try again in a few minutes."})
				}
			}
		}
		s.log.Debug("portal request", "request", rid, "route", pattern, "status", sw.Status, "ms", time.Since(start).Milliseconds())
	})
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request, h func(*request) error) error {
	p, err := s.copyByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	keys, err := s.tenants.Keys(r.Context(), p.TenantID)
	if errors.Is(err, tenant.ErrShredded) {
		return errGone
	}
	if err != nil {
		return err
	}
	org, e, err := s.orgName(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	req := &request{w: w, r: r, ctx: r.Context(), copy: p, keys: keys, prefix: "/p/" + r.PathValue("token"), org: org}
	req.brand = pages.Brand{Name: org}
	if e.logo != nil {
		req.brand.LogoURL = req.prefix + "/logo"
	}
	return h(req)
}

func (q *request) page(title string) pages.Page {
	return pages.Page{Brand: q.brand, Title: title, Prefix: q.prefix}
}

func (q *request) redirect(path string) error {
	http.Redirect(q.w, q.r, q.prefix+path, http.StatusSeeOther)
	return nil
}

func (s *Service) css(w http.ResponseWriter, r *http.Request) {
	body, etag := pages.CSS()
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body)
}

func (s *Service) logo(q *request) error {
	e, err := s.settings.get(q.ctx, q.copy.TenantID)
	if err != nil {
		return err
	}
	if e.logo == nil {
		http.NotFound(q.w, q.r)
		return nil
	}
	q.w.Header().Set("Content-Type", e.ctype)
	q.w.Header().Set("Cache-Control", "private, max-age=300")
	_, err = q.w.Write(e.logo)
	return err
}

// landing is where the notification link leads: sign in, or straight to the message
// when already signed in.
func (s *Service) landing(q *request) error {
	sess, err := s.session(q.r, q.copy)
	if err != nil {
		return err
	}
	if sess != "" {
		return q.redirect("/m")
	}
	to, err := s.address(q.ctx, q.keys, q.copy)
	if err != nil {
		return err
	}
	pg := &pages.Landing{Page: q.page("Secure message"), MaskedAddress: maskAddress(to), Passphrase: q.copy.PassphraseHash != nil, ExpiresAt: q.copy.ExpiresAt}
	if q.r.URL.Query().Get("out") == "1" {
		pg.Notice = "You have signed out."
	}
	return s.pages.Render(q.w, http.StatusOK, pg)
}

// refuseCodes answers for a copy that takes no codes now: a passphrase copy goes back
// to its landing page, a locked one (or a locked client) gets the lock page.
func (s *Service) refuseCodes(q *request) (answered bool, err error) {
	if q.copy.PassphraseHash != nil {
		return true, q.redirect("")
	}
	until, err := s.lock(q.ctx, q.copy, clientIP(q.r))
	if err != nil {
		return true, err
	}
	if !until.IsZero() {
		return true, s.locked(q, until)
	}
	return false, nil
}

func (s *Service) codePage(q *request) error {
	if answered, err := s.refuseCodes(q); answered {
		return err
	}
	to, err := s.address(q.ctx, q.keys, q.copy)
	if err != nil {
		return err
	}
	pg := &pages.CodeEntry{Page: q.page("Enter your code"), MaskedAddress: maskAddress(to), Sent: q.r.URL.Query().Get("sent") == "1",
		CodeMinutes: max(1, int(s.cfg.CodeTTL/time.Minute)), Digits: s.cfg.CodeDigits}
	switch q.r.URL.Query().Get("sent") {
	case "wait":
		pg.Notice = "A code was sent a moment ago. Please check your email, including the spam folder, before asking for another."
	case "limit":
		pg.Notice = "Several codes have been sent in the last hour. Please use the most recent one, or try again later."
	}
	return s.pages.Render(q.w, http.StatusOK, pg)
}

func (s *Service) locked(q *request, until time.Time) error {
	return s.pages.Render(q.w, http.StatusTooManyRequests, &pages.Locked{Page: q.page("Too many attempts"), Until: until})
}

func (s *Service) requestCode(q *request) error {
	if answered, err := s.refuseCodes(q); answered {
		return err
	}
	why, err := s.sendCode(q.ctx, q.r, q.keys, q.copy)
	switch {
	case err != nil:
		return err
	case why == codeTooSoon:
		return q.redirect("/code?sent=wait")
	case why == codeTooMany:
		return q.redirect("/code?sent=limit")
	}
	return q.redirect("/code?sent=1")
}
