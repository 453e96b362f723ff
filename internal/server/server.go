// Package server wires Sealpost together: it builds every part from the configuration,
// starts them in order and stops them in reverse. It is the one place that knows the
// concrete store.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/mailcheck/domaincheck"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/membudget"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/metrics"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/portal/prefs"
	"github.com/sealpost/sealpost/internal/queue"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/smtpd"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
	"github.com/sealpost/sealpost/internal/tenant/people"
	"github.com/sealpost/sealpost/internal/tracking"
	"github.com/sealpost/sealpost/internal/web"
	"github.com/sealpost/sealpost/internal/webhook"
)

// Options are what a caller (the CLI, a test, dev mode) may supply beyond the config.
type Options struct {
	Logger   *slog.Logger
	Keyring  *seal.Keyring           // default: from the config
	RootCAs  *x509.CertPool          // extra trust for receiving servers (tests, dev)
	Listener net.Listener            // default: listen on cfg.API.Listen
	Extra    map[string]http.Handler // more handlers on the API listener (dev mailbox)
	// HTTPClient fetches MTA-STS policies and Web Key Directory keys; default one
	// that trusts the system roots plus RootCAs. Tests route it to loopback servers.
	HTTPClient *http.Client
	// WebhookLoopback lets webhooks reach http:// and https:// endpoints on loopback:
	// `sealpost dev` and tests only.
	WebhookLoopback bool
	// WebhookRetry, WebhookTimeout and WebhookDisableAfter shorten the webhook
	// schedule for tests; zero values keep the specification's.
	WebhookRetry        []time.Duration
	WebhookTimeout      time.Duration
	WebhookDisableAfter time.Duration
	// SMTPTLS is the SMTP listeners' TLS; default from smtp.tls_cert (dev, tests).
	SMTPTLS *tls.Config
	// JourneyClock is the journeys' clock (waits, branch windows, date triggers);
	// default the system's. Tests move it instead of waiting days.
	JourneyClock func() time.Time
	// Campaigns: CampaignClock replaces the scheduler's clock and CampaignTick its
	// idle interval (tests).
	CampaignClock func() time.Time
	CampaignTick  time.Duration
	// LazyGC lets the server set the process's garbage-collector target from its
	// memory budget (see lazyGCPercent): serve and dev, when GOGC is not set.
	LazyGC bool
	// SpareProcs lets the server run with spare Ps while little is in flight (see
	// spareProcs): serve and dev, when GOMAXPROCS is not set.
	SpareProcs bool
}

// Server is a running (or ready to run) Sealpost.
type Server struct {
	Config   *config.Config
	DB       *store.DB
	Tenants  *tenant.Service
	Pipeline *pipeline.Pipeline
	Worker   *queue.Worker
	API      *api.Server
	Log      *slog.Logger
	Client   *delivery.Client
	Metrics  *metrics.Metrics
	Audit    *audit.Log
	Secure   *secureline.Service
	Portal   *portal.Service
	Webhooks *webhook.Service
	Archive  *archive.Service // the journal of mail in and out
	Tracking *tracking.Service
	// The dashboard: people who sign in, and the pages under /app.
	People *people.Service
	Web    *web.Server
	// Marketing audience: contacts, consent, suppression, unsubscribe pages.
	Marketing *marketing.Service
	OAuth     *oauth.Service // OAuth 2.0 clients and tokens
	SMTP      *smtpd.Server  // nil when no SMTP listener runs here
	// Secure forms.
	Forms *forms.Service
	// Journeys (drip sequences).
	Journeys *journey.Service
	// Inbound gateway: protected domains, quarantine, forwarding.
	Inbound *inbound.Service
	// Campaigns: approved, scheduled, throttled marketing sends.
	Campaigns *campaign.Service

	listener     net.Listener
	extra        map[string]http.Handler
	webhookOwner string
	inflight     atomic.Int64      // API requests being served
	memory       *membudget.Budget // the one cap on bytes being worked on: request bodies and deliveries
	smtpLn       map[smtpd.Mode]net.Listener
}

// LoadKeyring finds the master keyring: the master_key setting (or SEALPOST_MASTER_KEY),
// else the key file. There is no silent default: without a key Sealpost cannot seal.
func LoadKeyring(cfg *config.Config) (*seal.Keyring, error) {
	if cfg.MasterKey != "" {
		k, err := seal.ParseKey(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("master_key: %w", err)
		}
		return seal.NewKeyring(k)
	}
	ring, err := seal.LoadKeyring(cfg.MasterKeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no master key: %s does not exist; create one with `sealpost masterkey init` (or set SEALPOST_MASTER_KEY)", cfg.MasterKeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return ring, nil
}

// OpenDB opens and migrates the configured database.
func OpenDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{Logger: log, WarmConns: 8})
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "migrations", applied)
	}
	return db, nil
}

// New builds a server from a validated config.
func New(ctx context.Context, cfg *config.Config, opt Options) (*Server, error) {
	if err := CheckPortalURL(cfg); err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	ring := opt.Keyring
	if ring == nil {
		var err error
		if ring, err = LoadKeyring(cfg); err != nil {
			return nil, err
		}
	}
	db, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, DB: db, Log: log, listener: opt.Listener, extra: opt.Extra}
	s.Tenants = tenant.New(db, ring)
	if cfg.AuditKeyFile == "" {
		cfg.AuditKeyFile = filepath.Join(cfg.DataDir, "audit.key")
	}
	signer, err := audit.LoadOrCreateSigner(cfg.AuditKeyFile)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("audit key: %w", err)
	}
	s.Audit = audit.New(db, signer)
	s.Metrics = metrics.New(func(ctx context.Context) (int, time.Duration, error) {
		st, err := db.QueueStats(ctx, time.Now())
		return st.Queued, st.OldestAge, err
	})
	roots, err := rootCAs(cfg, opt.RootCAs)
	if err != nil {
		db.Close()
		return nil, err
	}
	resolver := Resolver(cfg.Delivery.DNSServer)
	tparts := TLSSecurity(cfg, resolver, roots, secureline.NewStoreCache(db), opt.HTTPClient, log)
	s.Secure = secureline.New(db, s.Tenants, SecureConfig(cfg, tparts, opt.HTTPClient), log)
	limits := message.DefaultLimits()
	limits.MaxTotalBytes, limits.MaxAttachmentBytes = cfg.Message.MaxBytes, cfg.Message.MaxAttachmentBytes
	s.Pipeline = pipeline.New(db, s.Tenants, s.Secure, pipeline.Config{Hostname: cfg.Hostname, Limits: limits,
		Expire: config.Duration(cfg.Delivery.Expire), Accepted: s.Metrics.Accepted, IgnoreLocalPartCase: cfg.Delivery.IgnoreLocalPartCase,
		Journal: journal(cfg)}, log)
	s.Archive = archive.New(db, s.Tenants, log.With("part", "archive"))
	s.Client = delivery.New(delivery.Config{
		Resolver: resolver, Port: cfg.Delivery.Port, SmartHost: cfg.Delivery.SmartHost,
		SmartHostUser: cfg.Delivery.SmartHostUser, SmartHostPassword: cfg.Delivery.SmartHostPassword,
		HeloName: cfg.Hostname, RootCAs: roots, Logger: log.With("part", "delivery"),
		STS: tparts.STS, DNSSEC: tparts.DNSSEC,
		// As many warm connections per host as deliveries may run to one domain: a
		// steady stream then pays for TCP, TLS and EHLO once per connection, not per
		// message.
		MaxIdlePerHost: cfg.Delivery.PerDomain,
		// A burst to one domain looks its MX up once, not per message.
		MXCacheTTL: 10 * time.Second,
	})
	// One cap on bytes being worked on, shared by requests and deliveries.
	s.memory = membudget.New(cfg.API.MaxInflightBytes)
	var watch []func(above bool)
	if opt.LazyGC {
		lazyGC(false)
		watch = append(watch, lazyGC)
	}
	if opt.SpareProcs {
		spareProcs(false)
		watch = append(watch, spareProcs)
	}
	if len(watch) > 0 {
		s.memory.Watch(lazyGCMark, func(above bool) {
			for _, f := range watch {
				f(above)
			}
		})
	}
	retry, _ := cfg.RetrySchedule()
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), tenant.NewID("w")[2:])
	s.Tracking = tracking.New(db, s.Tenants, TrackingURL(cfg), PortalURL(cfg)+"/p/", log.With("part", "tracking"))
	// Campaigns: marketing consent is checked again when each delivery is claimed;
	// the gate gets the marketing service once that exists.
	gate := &campaign.Gate{DB: db}
	s.Worker = queue.New(db, s.Tenants, s.Secure, s.Client, queue.Config{
		Owner: owner, Concurrency: cfg.Delivery.Concurrency, PerDomain: cfg.Delivery.PerDomain,
		Retry: retry, DrainTimeout: config.Duration(cfg.Delivery.DrainTimeout), Lease: config.Duration(cfg.Delivery.Lease), LogDir: cfg.DataDir,
		APIBusy: func() bool { return s.inflight.Load() > 0 },
		Memory:  s.memory, Tracker: s.Tracking, GoRSA: cfg.Delivery.RSAEngine == "go",
		// SMTP gateway: per-recipient return paths.
		ReturnPath: returnPath(cfg),
		Gate:       gate, // Campaigns.
	}, log.With("part", "queue"), s.Metrics)
	if cfg.HasRole("worker") {
		// Messages accepted here go to this process's worker with their commit.
		s.Pipeline.HandOffTo(s.Worker)
	}
	if s.Portal, err = portal.New(db, s.Tenants, s.Pipeline, PortalConfig(cfg), log, s.Worker.Notify); err != nil {
		db.Close()
		return nil, err
	}
	s.Secure.SetPortal(s.Portal)
	s.Portal.Observe(s.Metrics.Portal)
	whStats := s.Metrics.Webhooks(func(ctx context.Context) (int, time.Duration, error) {
		n, oldest, err := db.WebhookQueueStats(ctx)
		if err != nil || oldest.IsZero() {
			return int(n), 0, err
		}
		return int(n), time.Since(oldest), nil
	})
	s.Webhooks = WebhookService(cfg, db, s.Tenants, resolver, roots, opt, log.With("part", "webhook"))
	s.Webhooks.Metrics.Attempt = whStats.Attempt
	s.webhookOwner = owner
	s.Marketing = &marketing.Service{DB: db, Tenants: s.Tenants, Log: log.With("part", "marketing"), BaseURL: PortalURL(cfg)}
	s.OAuth = OAuthService(cfg, db, ring, s.Tenants)
	// Campaigns.
	gate.Marketing = s.Marketing
	s.Campaigns = &campaign.Service{DB: db, Tenants: s.Tenants, Marketing: s.Marketing, Pipeline: s.Pipeline, Log: log.With("part", "campaign"),
		Now: opt.CampaignClock, Tick: opt.CampaignTick, Notify: s.Worker.Notify}
	s.Campaigns.Init()
	// Secure forms.
	s.Forms = FormsService(cfg, db, s.Tenants, s.Pipeline, s.Marketing, log.With("part", "forms"), s.Worker.Notify)
	// Journeys: their sends go through marketing's checks and the same pipeline.
	s.Journeys = &journey.Service{DB: db, Tenants: s.Tenants, Marketing: s.Marketing, Pipeline: s.Pipeline, Reports: report.New(db, s.Tenants),
		Log: log.With("part", "journey"), Now: opt.JourneyClock, Owner: owner, Lease: config.Duration(cfg.Delivery.Lease), Accepted: s.Worker.Notify}
	// Inbound gateway: built before the API and the SMTP listeners, which call it.
	s.Inbound = InboundService(cfg, db, s.Tenants, s.Secure, resolver, roots, owner, log.With("part", "inbound"))
	s.API = api.New(api.Deps{
		DB: db, Tenants: s.Tenants, Pipeline: s.Pipeline, Secure: s.Secure, Portal: s.Portal, Webhooks: s.Webhooks, Log: log.With("part", "api"),
		MaxBodyBytes: cfg.API.MaxBodyBytes, Resolver: resolver, OnAccepted: s.Worker.Notify, Ready: s.ready,
		Observe: s.Metrics.Request, OnDBError: s.Metrics.DatabaseError, Audit: s.Audit,
		DomainChecks: func(_ string, dkim []domaincheck.DKIMExpect) domaincheck.Config {
			return DomainCheckConfig(cfg, resolver, roots, dkim)
		},
		Archive: s.Archive, ArchiveKey: signer.Key,
		Marketing: s.Marketing,
		// Access beyond API keys.
		OAuth: s.OAuth, Limits: APILimits(cfg), OnAuthFailure: s.Metrics.AuthFailure,
		Anomaly: AnomalyDetector(cfg, db, s.Tenants, s.OAuth, log.With("part", "access")),
		Forms:   s.Forms, // Secure forms.

		Journeys: s.Journeys, // Journeys (drip sequences).
		// Inbound gateway.
		Inbound: s.Inbound,
		// Campaigns.
		Campaigns: s.Campaigns,
	})
	// The dashboard: people who sign in, and the pages under /app.
	if err := s.buildDashboard(cfg); err != nil {
		db.Close()
		return nil, err
	}
	// SMTP gateway.
	if err := s.smtpListeners(cfg, opt.SMTPTLS, resolver); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func rootCAs(cfg *config.Config, extra *x509.CertPool) (*x509.CertPool, error) {
	if extra != nil {
		return extra, nil
	}
	if cfg.Delivery.CAFile == "" {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(cfg.Delivery.CAFile)
	if err != nil {
		return nil, fmt.Errorf("delivery.ca_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("delivery.ca_file %s: no PEM certificates", cfg.Delivery.CAFile)
	}
	return pool, nil
}

// Resolver returns a DNS resolver that asks server ("host:port"), or the system's.
func Resolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

func (s *Server) ready(ctx context.Context) error {
	if err := s.DB.Ping(ctx); err != nil {
		return err
	}
	if n, err := s.DB.Pending(ctx); err != nil || n > 0 {
		return fmt.Errorf("%d migrations pending", n)
	}
	return nil
}

// Handler is the API listener's whole handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.Handle("/p/", s.Portal.Handler())
	mux.Handle("/t/", s.Tracking.Handler())
	mux.Handle("/app/", s.Web)                                                                            // the dashboard
	mux.Handle("/u/", &prefs.Handler{Marketing: s.Marketing, DB: s.DB, Log: s.Log.With("part", "prefs")}) // marketing: unsubscribe, preferences
	mux.Handle("/f/", formsHandler(s.Forms, s.Portal, s.Log.With("part", "forms")))                       // Secure forms.
	for p, h := range s.extra {
		mux.Handle(p, h)
	}
	mux.Handle("/", s.API)
	api := s.Config.API
	pace := httpx.Pace{Body: config.Duration(api.BodyTimeout), Write: config.Duration(api.WriteTimeout), MinRate: api.MinRate,
		MaxBody: max(api.MaxBodyBytes, s.Config.Portal.MaxUploadBytes), Inflight: s.memory, Wait: config.Duration(api.InflightWait), RetryAfter: 5 * time.Second}
	return pace.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		mux.ServeHTTP(w, r)
	}))
}

// Run serves until ctx ends, then shuts down in order: stop accepting requests, let the
// worker finish or release its deliveries, close the database.
func (s *Server) Run(ctx context.Context) error {
	defer s.DB.Close()
	defer s.Client.Close()
	if s.DB.Dialect() == store.SQLite && s.Config.HasRole("worker") {
		// SQLite has one process: anything still claimed was cut off by a crash.
		if n, err := s.DB.ReleaseJobs(ctx, "", time.Now()); err == nil && n > 0 {
			s.Log.Info("released jobs left claimed by a previous run", "jobs", n)
		}
		if n, err := s.DB.ReleaseWebhookJobs(ctx, "", time.Now()); err == nil && n > 0 {
			s.Log.Info("released webhook jobs left claimed by a previous run", "jobs", n)
		}
		if n, err := s.DB.ReleaseRuns(ctx, s.Journeys.Clock()); err == nil && n > 0 {
			s.Log.Info("released journey steps left claimed by a previous run", "runs", n)
		}
	}
	errc := make(chan error, 4)
	if s.SMTP != nil {
		s.serveSMTP(errc)
	}
	var srv *http.Server
	if s.Config.HasRole("api") {
		ln := s.listener
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", s.Config.API.Listen); err != nil {
				return fmt.Errorf("api listener: %w", err)
			}
		}
		fdLimit, maxConns, err := connectionCap(s.Config.API)
		if err != nil {
			ln.Close()
			return fmt.Errorf("api listener: %w", err)
		}
		s.listener = ln
		// Connections are capped below the open-file limit, and every phase of a
		// request is bounded: headers and idle keep-alives here, bodies and responses
		// by a minimum rate in Handler. ReadTimeout and WriteTimeout stay unset: one
		// fixed bound would cut off a large upload on a slow but honest link.
		limited := httpx.LimitListener(ln, httpx.ConnLimits{Max: maxConns, PerClient: min(s.Config.API.MaxClientConns, maxConns)})
		srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: config.Duration(s.Config.API.ReadHeaderTimeout),
			IdleTimeout: config.Duration(s.Config.API.IdleTimeout), MaxHeaderBytes: 64 << 10,
			ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
		s.Metrics.Listener(limited.Open, limited.Refused, s.memory.Used)
		s.Log.Info("api connection limits", "max_connections", maxConns, "per_client", min(s.Config.API.MaxClientConns, maxConns), "open_file_limit", fdLimit)
		ln = limited
		go func() {
			var err error
			if s.Config.API.TLSCert != "" {
				srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				err = srv.ServeTLS(ln, s.Config.API.TLSCert, s.Config.API.TLSKey)
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		s.Log.Info("api listening", "addr", ln.Addr().String())
	}
	wctx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	hooksDone := make(chan struct{})
	if s.Config.HasRole("worker") {
		go func() { workerDone <- s.Worker.Run(wctx) }()
		go func() {
			defer close(hooksDone)
			// A webhook attempt lasts at most 15 s: its lease follows delivery.lease
			// but stays between 20 s and 2 min, so a crashed process's calls resume soon.
			lease := min(max(config.Duration(s.Config.Delivery.Lease), 20*time.Second), 2*time.Minute)
			s.Webhooks.Run(wctx, webhook.WorkerOptions{Owner: s.webhookOwner, Concurrency: s.Config.Webhooks.Concurrency,
				PerEndpoint: s.Config.Webhooks.PerEndpoint, Lease: lease})
		}()
	} else {
		workerDone <- nil
		close(hooksDone)
	}
	actx, stopAudit := context.WithCancel(context.Background())
	defer stopAudit()
	go (&audit.Runner{Log: s.Audit, Logger: s.Log}).Run(actx, config.Duration(s.Config.AuditEvery))
	if s.Config.HasRole("worker") {
		go s.Portal.Run(actx)
		go s.Marketing.Run(actx)                                          // consent expiry dates, retention of consent records
		go s.Forms.Run(actx, config.Duration(s.Config.Portal.SweepEvery)) // Secure forms: retention.
		go s.Journeys.Run(actx, time.Minute)                              // journey steps; date and segment triggers
		go s.Inbound.Run(wctx)                                            // Inbound gateway: forwarding.
		go s.Campaigns.Run(actx)                                          // Campaigns: the scheduler.
		go s.Archive.RunIndexer(actx, archiveIndexEvery)                  // the archive's index jobs
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.Log.Info("shutting down")
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	if s.SMTP != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s.SMTP.Shutdown(sctx)
		cancel()
	}
	stopWorker()
	if err := <-workerDone; err != nil && runErr == nil {
		runErr = err
	}
	<-hooksDone
	s.Log.Info("stopped")
	return runErr
}

// Addr is the API's listening address once Run has started it.
func (s *Server) Addr() string {
	if s.listener == nil {
		return s.Config.API.Listen
	}
	return s.listener.Addr().String()
}

// DomainCheckConfig is how domain checks see the world from this server: its resolver,
// delivery port and trust roots, and its sending addresses for SPF.
func DomainCheckConfig(cfg *config.Config, resolver *net.Resolver, roots *x509.CertPool, dkim []domaincheck.DKIMExpect) domaincheck.Config {
	var ips []net.IP
	for _, s := range cfg.Delivery.SendingIPs {
		if ip := net.ParseIP(strings.TrimSpace(s)); ip != nil {
			ips = append(ips, ip)
		}
	}
	return domaincheck.Config{Resolver: resolver, Port: cfg.Delivery.Port, RootCAs: roots, SendingIPs: ips, DKIM: dkim, HeloName: cfg.Hostname, Timeout: 20 * time.Second}
}
