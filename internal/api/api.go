// Package api serves the REST API under /v1: credentials and scopes, request
// validation, problem+json errors and the OpenAPI document.
package api

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/mailcheck/domaincheck"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
	"github.com/sealpost/sealpost/internal/webhook"
)

// Deps are what the API needs from the rest of the server.
type Deps struct {
	DB           *store.DB
	Tenants      *tenant.Service
	Pipeline     *pipeline.Pipeline
	Secure       *secureline.Service
	Portal       *portal.Service
	Webhooks     *webhook.Service
	Log          *slog.Logger
	MaxBodyBytes int64
	Resolver     *net.Resolver // for domain verification
	OnAccepted   func()        // wakes the delivery worker
	Ready        func(context.Context) error
	Observe      func(route string, status int, d time.Duration)                       // metrics; optional
	OnDBError    func()                                                                // metrics; optional
	Audit        *audit.Log                                                            // every request appends an entry
	DomainChecks func(domain string, dkim []domaincheck.DKIMExpect) domaincheck.Config // settings for domain checks
	// The archive, and the key that signs its exports (the audit checkpoint key).
	Archive    *archive.Service
	ArchiveKey ed25519.PrivateKey
	// Reports: statistics and split reports (built over DB and Tenants when nil).
	Reports   *report.Service
	Marketing *marketing.Service // contacts, consent, suppression

	// Access beyond API keys: OAuth clients, request limits, failure counts.
	OAuth         *oauth.Service
	Limits        Limits
	OnAuthFailure func(method, reason string) // metrics; optional
	Anomaly       AnomalyObserver             // optional
	// Secure forms.
	Forms *forms.Service
	// Journeys (drip sequences).
	Journeys *journey.Service
	// Inbound gateway: protected domains and quarantine (nil: off).
	Inbound *inbound.Service
	// Campaigns.
	Campaigns *campaign.Service
}

// AnomalyObserver sees every authenticated request (its credential and client address).
type AnomalyObserver interface {
	Observe(ctx context.Context, p *tenant.Principal, clientIP string)
}

// Server is the API handler.
type Server struct {
	Deps
	mux    *http.ServeMux
	limits limiters
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error

// New builds the API.
func New(d Deps) *Server {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 40 << 20
	}
	if d.Resolver == nil {
		d.Resolver = net.DefaultResolver
	}
	if d.OnAccepted == nil {
		d.OnAccepted = func() {}
	}
	s := &Server{Deps: d, mux: http.NewServeMux()}
	s.limits = newLimiters(d.Limits)
	for _, rt := range Routes() {
		h := rt.handler
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt, func(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error { return h(s, w, r, p) }))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem(404, "Not found", "no such endpoint"))
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := hex.EncodeToString(seal.RandomBytes(8))
	w.Header().Set("X-Request-Id", id)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			s.Log.Warn("not ready", "err", err)
			writeProblem(w, r, problem(503, "Not ready", err.Error()))
			return
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

// wrap authenticates, checks the route's scope, limits the body and turns errors into
// problems. The log line carries the request id and route, never bodies or addresses.
func (s *Server) wrap(rt Route, h handlerFunc) http.Handler {
	name := rt.Method + " " + rt.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &httpx.StatusWriter{ResponseWriter: w}
		log := s.Log.With("request", w.Header().Get("X-Request-Id"), "route", name)
		r.Body = http.MaxBytesReader(sw, r.Body, s.MaxBodyBytes)
		var p *tenant.Principal
		rec := &auditRecord{}
		err := func() error {
			if rt.Scope != "" {
				var err error
				if p, err = s.authenticate(r); err != nil {
					return err
				}
				if !p.Can(rt.Scope) {
					return problem(403, "Forbidden", "this API key lacks the "+rt.Scope+" scope")
				}
				if err := s.limit(sw, p, rt.Scope); err != nil {
					return err
				}
				if s.Anomaly != nil {
					s.Anomaly.Observe(r.Context(), p, clientIP(r))
				}
			}
			if err := s.checkLength(r); err != nil {
				return err
			}
			return h(sw, r.WithContext(context.WithValue(r.Context(), auditKey{}, rec)), p)
		}()
		if err != nil {
			pr, internal := toProblem(err)
			if internal {
				log.Error("request failed", "err", err)
			}
			unavailable := store.IsUnavailable(err)
			if s.OnDBError != nil && unavailable {
				s.OnDBError()
			}
			writeProblem(sw, r, pr)
			if unavailable {
				// The answer goes out now; recording it in the audit trail waits on
				// the same unavailable database.
				http.NewResponseController(sw).Flush()
			}
		}
		status := sw.Status
		if status == 0 {
			status = 200
		}
		if p == nil {
			p = rec.principal // a public route that authenticated its caller itself
		}
		if !rec.done {
			s.audit(r, p, sw, name, status, log)
		}
		attrs := []any{"status", status, "ms", time.Since(start).Milliseconds()}
		if p != nil {
			attrs = append(attrs, "key", p.KeyID)
		}
		log.Debug("request", attrs...)
		if s.Observe != nil {
			s.Observe(name, status, time.Since(start))
		}
	})
}

// checkLength refuses a body declared larger than any route accepts before it is read.
// Room for the body in the memory budget is held by the server's pacing (httpx.Pace),
// which serves every route, so the API does not count it again.
func (s *Server) checkLength(r *http.Request) error {
	if r.ContentLength > s.MaxBodyBytes {
		return problem(413, "Request too large", fmt.Sprintf("the request body exceeds %d bytes", s.MaxBodyBytes))
	}
	return nil
}

type auditKey struct{}

// auditRecord lets a handler record its request's audit entry inside its own
// transaction; wrap then does not write a second one.
type auditRecord struct {
	done      bool
	principal *tenant.Principal
}

// inlineAudit returns the entry a handler should commit with its own write, and a
// function to call once that write has committed.
func (s *Server) inlineAudit(r *http.Request, p *tenant.Principal, route string, status int) (*store.AuditEntry, func()) {
	rec, _ := r.Context().Value(auditKey{}).(*auditRecord)
	if s.Audit == nil || rec == nil || p == nil {
		return nil, func() {}
	}
	e := &store.AuditEntry{At: time.Now(), TenantID: p.TenantID, Principal: "key:" + p.KeyID, Action: route, Result: strconv.Itoa(status), Client: clientIP(r)}
	return e, func() { rec.done = true }
}

// audit records who did what to which object, and the outcome — never content.
// Failed credentials are recorded too, as the anonymous principal with a 401.
func (s *Server) audit(r *http.Request, p *tenant.Principal, w http.ResponseWriter, name string, status int, log *slog.Logger) {
	if s.Audit == nil {
		return
	}
	e := audit.Entry{Principal: "anonymous", Action: name, Result: strconv.Itoa(status), Client: clientIP(r)}
	if p != nil {
		e.TenantID, e.Principal = p.TenantID, "key:"+p.KeyID
	}
	e.Object = r.PathValue("id")
	if e.Object == "" {
		e.Object = r.PathValue("domain")
	}
	if loc := w.Header().Get("Location"); e.Object == "" && loc != "" {
		e.Object = path.Base(loc)
	}
	// The entry must be written even if the client has gone away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	if err := s.Audit.Record(ctx, e); err != nil {
		log.Error("audit record failed", "err", err)
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
