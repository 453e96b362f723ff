// Package formpages serves secure forms' hosted pages on the portal listener under
// /f/: server-rendered, no script, usable by keyboard and on a phone, framable only by
// the origins a form allows. It parses what the browser sends, in memory only, and
// hands it to the forms service, which decides everything.
package formpages

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal/pages"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
)

//go:embed templates/form.html
var formHTML string

//go:embed templates/extra.css
var extraCSS string

var page = template.Must(template.New("form").Parse(formHTML))

// Config tunes the pages.
type Config struct {
	// OrgName names the tenant on its pages (the portal's display name); nil: the
	// tenant's name.
	OrgName func(ctx context.Context, tenantID string) (string, error)
	// Limiter limits submissions per client; nil: 5 at once, then one every 12 s.
	Limiter *forms.Limiter
	Now     func() time.Time
}

// Handler serves /f/.
type Handler struct {
	forms *forms.Service
	cfg   Config
	log   *slog.Logger
	css   []byte
	etag  string
}

// New builds the handler.
func New(svc *forms.Service, cfg Config, log *slog.Logger) *Handler {
	if cfg.Limiter == nil {
		cfg.Limiter = forms.NewLimiter(12*time.Second, 5)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OrgName == nil {
		cfg.OrgName = svc.OrgName
	}
	base, _ := pages.CSS()
	css := append(base, extraCSS...)
	return &Handler{forms: svc, cfg: cfg, log: log, css: css, etag: `"` + hex.EncodeToString(seal.RandomBytes(8)) + `"`}
}

// Routes registers the pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /f/static/form.css", h.stylesheet)
	mux.HandleFunc("GET /f/{token}", h.wrap("GET /f/{token}", h.show))
	mux.HandleFunc("POST /f/{token}", h.wrap("POST /f/{token}", h.submit))
	mux.HandleFunc("GET /f/{token}/thanks", h.wrap("GET /f/{token}/thanks", h.thanks))
}

func (h *Handler) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", h.etag)
	_, _ = w.Write(h.css)
}

// request is one request for a hosted form.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	hosted *forms.Hosted
	org    string
}

var errGone = errors.New("no such form")

// wrap finds the form, sets the security headers and logs the route pattern — never
// the path, which is the form's secret.
func (h *Handler) wrap(pattern string, fn func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rid := hex.EncodeToString(seal.RandomBytes(8))
		w.Header().Set("X-Request-Id", rid)
		hosted, err := h.forms.ByToken(r.Context(), r.PathValue("token"))
		var org string
		if err == nil {
			org, err = h.cfg.OrgName(r.Context(), hosted.Form.TenantID)
		}
		if err == nil {
			headers(w, hosted.Def.AllowedOrigins)
			err = fn(&request{w: w, r: r, hosted: hosted, org: org})
		} else {
			headers(w, nil)
		}
		switch {
		case err == nil:
		case errors.Is(err, store.ErrNotFound), errors.Is(err, errGone):
			h.plain(w, http.StatusNotFound, "Form not available", "This form does not exist or is no longer available.")
		case store.IsUnavailable(err):
			h.log.Warn("form request: database unavailable", "request", rid, "route", pattern)
			w.Header().Set("Retry-After", strconv.Itoa(int(store.RetryAfter/time.Second)))
			h.plain(w, http.StatusServiceUnavailable, "Briefly unavailable", "Nothing was sent. Please go back and try again in a few minutes.")
		default:
			h.log.Error("form request failed", "request", rid, "route", pattern, "err", err)
			h.plain(w, http.StatusInternalServerError, "Something went wrong", "Nothing was sent. Please go back and try again in a few minutes.")
		}
	}
}

func headers(w http.ResponseWriter, origins []string) {
	hd := w.Header()
	ancestors := "'none'"
	if len(origins) > 0 {
		ancestors = "'self' " + strings.Join(origins, " ")
	} else {
		hd.Set("X-Frame-Options", "DENY")
	}
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors "+ancestors)
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}

func (h *Handler) plain(w http.ResponseWriter, status int, title, detail string) {
	h.render(w, status, &view{Title: title, Org: "Secure form", Refused: detail})
}

func (h *Handler) render(w http.ResponseWriter, status int, v *view) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		h.log.Error("form page render", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) show(q *request) error {
	v := newView(q, nil, nil)
	v.CSRF = q.hosted.Token(h.cfg.Now())
	h.render(q.w, http.StatusOK, v)
	return nil
}

func (h *Handler) thanks(q *request) error {
	d := q.hosted.Def
	msg := d.Confirmation
	if msg == "" {
		msg = "Thank you. Your form was sent securely."
	}
	h.render(q.w, http.StatusOK, &view{Title: d.Title, Org: q.org, Done: true, Confirmation: msg, CopySent: q.r.URL.Query().Get("copy") == "1"})
	return nil
}

// sameOrigin refuses a post another site's page made. Browsers send Sec-Fetch-Site
// with every request; a page framed on a practice's site posts from our own origin, so
// it says same-origin. Our pages send no referrer, and with that policy a form post's
// Origin is "null", so Origin is compared only when it names one.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true // an older client: the signed page token still binds the post to our page
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return o == scheme+r.Host
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) submit(q *request) error {
	now := h.cfg.Now()
	if !sameOrigin(q.r) {
		h.plain(q.w, http.StatusForbidden, "Form not sent", "This form can only be sent from its own page.")
		return nil
	}
	in, status, err := readInput(q.w, q.r, q.hosted.Def)
	if err != nil {
		return err
	}
	if status != 0 {
		h.plain(q.w, status, "Form not sent", "The form was too large to accept: please send smaller files.")
		return nil
	}
	again := func(status int, notice string, fe []*forms.FieldError) error {
		v := newView(q, in, fe)
		v.CSRF = q.hosted.Token(now)
		v.Notice = notice
		h.render(q.w, status, v)
		return nil
	}
	if in.honeypot != "" {
		// Only a program fills a field nobody can see.
		h.log.Info("form submission refused", "form", q.hosted.Form.ID, "why", "honeypot")
		h.plain(q.w, http.StatusBadRequest, "Form not sent", "The form could not be accepted.")
		return nil
	}
	switch q.hosted.CheckToken(in.csrf, now) {
	case forms.TokenInvalid:
		h.log.Info("form submission refused", "form", q.hosted.Form.ID, "why", "page token")
		return again(http.StatusForbidden, "This page had expired. Please check your answers and send the form again.", nil)
	case forms.TokenTooFast:
		h.log.Info("form submission refused", "form", q.hosted.Form.ID, "why", "too fast")
		return again(http.StatusUnprocessableEntity, "Please check your answers and send the form again.", nil)
	}
	if !h.cfg.Limiter.Allow(clientIP(q.r), now) {
		h.log.Info("form submission refused", "form", q.hosted.Form.ID, "why", "rate")
		q.w.Header().Set("Retry-After", "15")
		return again(http.StatusTooManyRequests, "Many forms were sent from your connection just now. Please wait a minute and send again: everything you typed is still here"+filesNote(q.hosted.Def)+".", nil)
	}
	in.Input.ClientAddr, in.Input.TLS = clientIP(q.r), q.r.TLS
	rc, fe, err := h.forms.Submit(q.r.Context(), q.hosted, &in.Input)
	if len(fe) > 0 {
		return again(http.StatusUnprocessableEntity, "", fe)
	}
	var pe *pipeline.Error
	if errors.As(err, &pe) {
		h.log.Info("form submission refused by the pipeline", "form", q.hosted.Form.ID, "status", pe.Status)
		h.plain(q.w, http.StatusUnprocessableEntity, "Form not sent", "The organisation's security settings did not accept this form. Please contact them directly.")
		return nil
	}
	if err != nil {
		return err
	}
	to := "/f/" + q.r.PathValue("token") + "/thanks"
	if rc.CopySent {
		to += "?copy=1"
	}
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
	return nil
}

func filesNote(d *forms.Definition) string {
	for _, f := range d.Fields {
		if f.Type == forms.TypeFile {
			return " except files, which you need to choose again"
		}
	}
	return ""
}
