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
	"slices"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/mailtemplate"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/quarantine"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
	"github.com/sealpost/sealpost/internal/webhook"
)

// Deps are the services the pages act through.
type Deps struct {
	DB      *store.DB
	Tenants *tenant.Service
	People  *people.Service
	Portal  *portal.Service
	Audit   *audit.Log
	Log     *slog.Logger
	// Scope names the scope an API route needs (api.RouteScope): a page action is
	// allowed exactly when the API route it mirrors would be.
	Scope func(method, path string) (string, bool)
	// AuditKey verifies the audit trail's signed checkpoints.
	AuditKey ed25519.PublicKey
	// Reports is the report service GET /v1/stats and /v1/reports/* call: the overview,
	// the reports and the compliance pages show its numbers.
	Reports *report.Service
	// Quarantine releases and deletes held messages, as the API's routes do.
	Quarantine *quarantine.Service
	// Webhooks manages endpoints and their deliveries, as the API's routes do.
	Webhooks *webhook.Service
	// Secure holds the policy and recipients' keys, as the API's routes use them.
	Secure *secureline.Service
	// Pipeline previews a draft against the policy, as POST /v1/policy/preview does.
	Pipeline *pipeline.Pipeline
	// Templates stores and renders templates, as the API's template routes do.
	Templates *mailtemplate.Service
	// Journeys (drip sequences); without them the page is refused.
	Journeys *journey.Service
	// Campaigns.
	Campaigns *campaign.Service
	// Archive is the archive the API's /v1/archive routes act through.
	Archive *archive.Service
}

// Server serves the dashboard.
type Server struct {
	Deps
	pages *renderer
	mux   *http.ServeMux
	cop   *http.CrossOriginProtection
	// routes lists every registration, so a test can walk every action.
	registered []Route
}

// Route is one registered page or action and the session stage it needs ("" for the
// sign-in pages, which need none).
type Route struct{ Pattern, Stage string }

// Routes lists every page and action the dashboard serves, in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.registered) }

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
	if d.Reports == nil {
		d.Reports = report.New(d.DB, d.Tenants)
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
	s.registered = append(s.registered, Route{pattern, stage})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sw := &httpx.StatusWriter{ResponseWriter: w}
		q := &request{w: sw, r: r, ctx: r.Context()}
		err := s.serve(q, pattern, stage, h)
		if err != nil {
			s.fail(q, err)
		}
		s.Log.Debug("dashboard request", "route", pattern, "status", sw.Status)
	})
}

func (s *Server) serve(q *request, pattern, stage string, h func(*request) error) error {
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
		if stage == people.StageFull && !operatorMay(sess, pattern) {
			return errForbidden
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
