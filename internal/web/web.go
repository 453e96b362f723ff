// Package web is the people's dashboard under /app: server-rendered pages, embedded in
// the binary, that act only through the same services and scope checks as the API.
package web

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// StatsSource gives the overview its numbers: counts of each event type for a tenant
// in a period, and the queue. The report service implements it once it exists; until
// then EventStats counts events.
type StatsSource interface {
	Counts(ctx context.Context, tenantID string, since, until time.Time) (map[string]int64, error)
}

// EventStats is a StatsSource over the events table.
type EventStats struct{ DB *store.DB }

// Counts implements StatsSource.
func (e EventStats) Counts(ctx context.Context, tenantID string, since, until time.Time) (map[string]int64, error) {
	return e.DB.EventTypeCounts(ctx, tenantID, since, until)
}

// Deps are the services the pages act through.
type Deps struct {
	DB      *store.DB
	Tenants *tenant.Service
	People  *people.Service
	Portal  *portal.Service
	Audit   *audit.Log
	Stats   StatsSource
	Log     *slog.Logger
	// Scope names the scope an API route needs (api.RouteScope): a page action is
	// allowed exactly when the API route it mirrors would be.
	Scope func(method, path string) (string, bool)
	// AuditKey verifies the audit trail's signed checkpoints.
	AuditKey ed25519.PublicKey
	// Archive is the archive the API's /v1/archive routes act through.
	Archive *archive.Service
}

// Server serves the dashboard.
type Server struct {
	Deps
	pages *renderer
	mux   *http.ServeMux
	cop   *http.CrossOriginProtection
}

// cookieName carries the session. __Host- makes the browser insist on Secure, Path=/
// and no Domain, so no sibling host can set or read it.
const cookieName = "__Host-sealpost"

// pageCSP allows nothing but this origin's stylesheet and inline data: images (the
// enrolment QR code): no script at all.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// New builds the dashboard.
func New(d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Stats == nil {
		d.Stats = EventStats{DB: d.DB}
	}
	r, err := newRenderer()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, pages: r, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("X-Request-Id", hex.EncodeToString(seal.RandomBytes(8)))
	// Cross-site POSTs are refused before any handler sees them (Sec-Fetch-Site and
	// Origin); the per-session token below covers browsers that send neither.
	if err := s.cop.Check(r); err != nil {
		s.problem(w, r, nil, http.StatusForbidden, "This request came from another site and was refused.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// request is one dashboard request.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	sess *people.Session // nil on the sign-in pages
	tok  string
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (q *request) client() string { return clientIP(q.r) }

// csrf is the form token of a session: an HMAC of its cookie, which only this
// origin's pages can read back into a form.
func csrf(tok string) string {
	m := hmac.New(sha256.New, []byte(tok))
	m.Write([]byte("sealpost dashboard form"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) setCookie(w http.ResponseWriter, tok string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// handle registers a page. stage is the session stage it needs ("" for none:
// the sign-in pages). A POST must carry the session's form token.
func (s *Server) handle(pattern, stage string, h func(*request) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sw := &httpx.StatusWriter{ResponseWriter: w}
		q := &request{w: sw, r: r, ctx: r.Context()}
		err := s.serve(q, stage, h)
		if err != nil {
			s.fail(q, err)
		}
		s.Log.Debug("dashboard request", "route", pattern, "status", sw.Status)
	})
}

func (s *Server) serve(q *request, stage string, h func(*request) error) error {
	if stage != "" {
		c, err := q.r.Cookie(cookieName)
		if err == nil {
			q.tok = c.Value
		}
		sess, err := s.People.Session(q.ctx, q.tok)
		if errors.Is(err, people.ErrSession) || err == nil && sess.Stage != stage {
			if q.r.Method == http.MethodGet {
				http.Redirect(q.w, q.r, "/app/signin", http.StatusSeeOther)
				return nil
			}
			return people.ErrSession
		}
		if err != nil {
			return err
		}
		q.sess = sess
		if q.r.Method == http.MethodPost && !hmac.Equal([]byte(q.r.PostFormValue("csrf")), []byte(csrf(q.tok))) {
			return errCSRF
		}
	}
	return h(q)
}

var errCSRF = errors.New("the form has expired; please load the page again")

// errForbidden is a page or action the person's role does not allow.
var errForbidden = errors.New("forbidden")

func (s *Server) fail(q *request, err error) {
	switch {
	case errors.Is(err, errForbidden), errors.Is(err, people.ErrForbidden):
		s.problem(q.w, q.r, q, http.StatusForbidden, "Your role does not allow this. Ask an owner or administrator.")
	case errors.Is(err, errCSRF):
		s.problem(q.w, q.r, q, http.StatusForbidden, err.Error())
	case errors.Is(err, people.ErrSession):
		s.problem(q.w, q.r, nil, http.StatusUnauthorized, err.Error())
	case errors.Is(err, store.ErrNotFound):
		s.problem(q.w, q.r, q, http.StatusNotFound, "There is nothing here, or it belongs to another organisation.")
	case store.IsUnavailable(err):
		s.problem(q.w, q.r, q, http.StatusServiceUnavailable, "The database cannot be reached right now. Nothing was changed.")
	default:
		s.Log.Error("dashboard request failed", "err", err)
		s.problem(q.w, q.r, q, http.StatusInternalServerError, "Something went wrong. Nothing was changed.")
	}
}

func (s *Server) problem(w http.ResponseWriter, r *http.Request, q *request, status int, msg string) {
	v := &view{Title: http.StatusText(status), Error: msg}
	if q != nil && q.sess != nil {
		v = q.view(s, http.StatusText(status))
		v.Error = msg
	}
	_ = s.pages.render(w, status, "problem", v)
}

// can reports whether the person may do what the API route method+path does.
func (s *Server) can(q *request, method, path string) bool {
	scope, ok := s.Scope(method, path)
	return ok && q.sess != nil && q.sess.Principal().Can(scope)
}

// require refuses the request unless the person may call the API route.
func (s *Server) require(q *request, method, path string) error {
	if !s.can(q, method, path) {
		return errForbidden
	}
	return nil
}

func (q *request) redirect(path string) error {
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

// record audits a page action that its service does not audit itself.
func (s *Server) record(q *request, action, object, result string) {
	if s.Audit == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.ctx), 30*time.Second)
	defer cancel()
	if err := s.Audit.Record(ctx, audit.Entry{TenantID: q.sess.TenantID, Principal: "user:" + q.sess.UserID, Action: action, Object: object, Result: result, Client: q.client()}); err != nil {
		s.Log.Error("audit record failed", "err", err)
	}
}
