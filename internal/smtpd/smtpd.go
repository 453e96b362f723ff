// Package smtpd is the SMTP face: message submission with AUTH (587 with STARTTLS, 465
// with implicit TLS) feeding the same pipeline as the API — DLP, policy, sealing,
// per-recipient methods, events, webhooks and audit — and answering 250 only once the
// message and its jobs are committed.
package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/membudget"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Config tunes the listeners and their defences.
type Config struct {
	Hostname        string      // our name in the greeting and EHLO
	TLS             *tls.Config // certificate for STARTTLS and implicit TLS; required
	MaxMessageBytes int64       // SIZE: the largest message, as transmitted
	MaxRecipients   int         // RCPT commands per message
	// ReadTimeout bounds each command and each read of DATA: a client that stalls is
	// cut off. WriteTimeout bounds each reply.
	ReadTimeout, WriteTimeout time.Duration
	// AUTH failures per client address and per username within AuthWindow; the one
	// that reaches AuthMaxFailures locks both for AuthLockout, in every process.
	AuthMaxFailures int
	AuthWindow      time.Duration
	AuthLockout     time.Duration
	MaxConnections  int // open connections per listener
	MaxClientConns  int // open connections per client address (IPv6: one /64)
	// MemoryWait is how long a message waits for room in the process's memory budget
	// before it gets 452 4.3.1.
	MemoryWait time.Duration
	// BounceDomain is the domain of the per-recipient return paths the inbound
	// listener takes reports for; empty: none.
	BounceDomain string
}

// Deps are the parts a session calls.
type Deps struct {
	DB       *store.DB
	Tenants  *tenant.Service
	Pipeline *pipeline.Pipeline
	Memory   *membudget.Budget // the process's one cap on bytes being worked on
	Log      *slog.Logger
	// LookupTXT answers DKIM key queries for relay proofs.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	// Suppressor, if set, records hard bounces and complaints.
	Suppressor Suppressor
	// OnAccepted wakes the delivery worker after a commit.
	OnAccepted func()
	// Inbound, if set, is the gateway for the domains tenants protect (inbound listener).
	Inbound *inbound.Service
}

// Server runs the SMTP listeners.
type Server struct {
	cfg   Config
	deps  Deps
	mu    sync.Mutex
	srvs  []*smtp.Server
	conns map[net.Conn]struct{}
}

// New builds a server.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 35 << 20
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 50
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 5 * time.Minute // RFC 5321 4.5.3.2.7: server timeout 5 minutes
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.AuthMaxFailures <= 0 {
		cfg.AuthMaxFailures = 10
	}
	if cfg.AuthWindow <= 0 {
		cfg.AuthWindow = 15 * time.Minute
	}
	if cfg.AuthLockout <= 0 {
		cfg.AuthLockout = 15 * time.Minute
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 1000
	}
	if cfg.MaxClientConns <= 0 || cfg.MaxClientConns > cfg.MaxConnections {
		cfg.MaxClientConns = min(50, cfg.MaxConnections)
	}
	if cfg.MemoryWait <= 0 {
		cfg.MemoryWait = 10 * time.Second
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.LookupTXT == nil {
		deps.LookupTXT = net.DefaultResolver.LookupTXT
	}
	if deps.OnAccepted == nil {
		deps.OnAccepted = func() {}
	}
	return &Server{cfg: cfg, deps: deps, conns: map[net.Conn]struct{}{}}
}

// Mode is what a listener is for.
type Mode string

// Listener modes.
const (
	Submission Mode = "submission"  // STARTTLS, then AUTH (587)
	SubmitTLS  Mode = "submissions" // implicit TLS, then AUTH (465, RFC 8314)
)

// Serve accepts SMTP sessions on ln until ln is closed or Close is called.
func (s *Server) Serve(ln net.Listener, mode Mode) error {
	if s.cfg.TLS == nil {
		return errors.New("smtpd: a TLS certificate is required: AUTH is never offered in the clear")
	}
	srv := smtp.NewServer(&backend{s: s, mode: mode})
	srv.Domain = s.cfg.Hostname
	srv.MaxMessageBytes = s.cfg.MaxMessageBytes
	srv.MaxRecipients = s.cfg.MaxRecipients
	srv.ReadTimeout, srv.WriteTimeout = s.cfg.ReadTimeout, s.cfg.WriteTimeout
	srv.AllowInsecureAuth = false
	srv.EnableSMTPUTF8 = true
	srv.EnableREQUIRETLS = true
	srv.ErrorLog = slog.NewLogLogger(s.deps.Log.Handler(), slog.LevelDebug)
	tlsCfg := s.cfg.TLS.Clone()
	tlsCfg.MinVersion = max(tlsCfg.MinVersion, tls.VersionTLS12)
	if mode == Relay {
		// Asked for, not verified: a certificate proves a tenant only by its pin.
		tlsCfg.ClientAuth = tls.RequestClientCert
	}
	srv.TLSConfig = tlsCfg
	ln = httpx.LimitListener(ln, httpx.ConnLimits{Max: s.cfg.MaxConnections, PerClient: s.cfg.MaxClientConns})
	// Tracked beneath TLS: go-smtp recognises an implicit-TLS session by its *tls.Conn.
	ln = &trackListener{Listener: ln, s: s}
	if mode == SubmitTLS {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s.mu.Lock()
	s.srvs = append(s.srvs, srv)
	s.mu.Unlock()
	s.deps.Log.Info("smtp listening", "mode", string(mode), "addr", ln.Addr().String())
	err := srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for open sessions to end until ctx does, then
// closes them. A message whose DATA was not answered gets no 250 and is the client's
// to retry.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	srvs := s.srvs
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.Shutdown(ctx)
		}()
	}
	wg.Wait()
	// go-smtp's Shutdown waits for idle sessions too, and its Close does nothing once
	// Shutdown has begun: what is still open when ctx ends is closed here.
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

// trackListener remembers open connections so Shutdown can end them.
type trackListener struct {
	net.Listener
	s *Server
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.conns[c] = struct{}{}
	l.s.mu.Unlock()
	return &trackedConn{Conn: c, s: l.s}, nil
}

type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c.Conn)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

type backend struct {
	s    *Server
	mode Mode
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return newSession(b.s, b.mode, c), nil
}
