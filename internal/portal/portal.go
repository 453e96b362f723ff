// Package portal is the secure message portal: where a recipient without verified TLS
// or keys reads a message, downloads its attachments and replies, after proving control
// of their address with a one-time code (or a passphrase the sender shared). It also
// lets senders revoke copies and change their expiry, and destroys expired copies.
package portal

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal/pages"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Config bounds access and lifetime.
type Config struct {
	CodeTTL           time.Duration // an access code's life (at most 10 minutes)
	CodeDigits        int           // 6 by default
	ResendAfter       time.Duration // a new code is sent at most this often
	MaxFailures       int           // wrong attempts on one copy before it locks
	ClientMaxFailures int           // wrong attempts from one address before it locks
	Lockout           time.Duration
	SessionIdle       time.Duration
	SessionMax        time.Duration
	DefaultExpiry     time.Duration // a tenant's default when its settings name none
	MaxExpiry         time.Duration // no tenant may exceed it
	SweepEvery        time.Duration
	MaxUploadBytes    int64
	// SecureCookies names cookies with the __Host- prefix; set when the portal is
	// served over HTTPS (loopback http for development cannot carry the prefix).
	SecureCookies bool
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.CodeTTL, 10*time.Minute)
	set(&c.ResendAfter, 30*time.Second)
	set(&c.Lockout, 15*time.Minute)
	set(&c.SessionIdle, 15*time.Minute)
	set(&c.SessionMax, 12*time.Hour)
	set(&c.DefaultExpiry, 30*24*time.Hour)
	set(&c.MaxExpiry, 90*24*time.Hour)
	set(&c.SweepEvery, time.Minute)
	if c.CodeDigits < 6 {
		c.CodeDigits = 6
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.ClientMaxFailures <= 0 {
		c.ClientMaxFailures = 20
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 25 << 20
	}
}

// Service is the portal.
type Service struct {
	db       *store.DB
	tenants  *tenant.Service
	pipeline *pipeline.Pipeline
	cfg      Config
	log      *slog.Logger
	pages    *pages.Renderer
	now      func() time.Time
	accepted func() // wakes the delivery worker after a code or a reply is stored
	settings *settingsCache
	observe  func(event string)
	// passSlots bounds the passphrase checks running at once (see attempt).
	passSlots chan struct{}
}

// Observe sets a function told of each portal event once it is committed (metrics).
func (s *Service) Observe(fn func(event string)) { s.observe = fn }

// New builds the portal. accepted is called after it stores a message to send.
func New(db *store.DB, tenants *tenant.Service, p *pipeline.Pipeline, cfg Config, log *slog.Logger, accepted func()) (*Service, error) {
	cfg.defaults()
	r, err := pages.New()
	if err != nil {
		return nil, err
	}
	if accepted == nil {
		accepted = func() {}
	}
	s := &Service{db: db, tenants: tenants, pipeline: p, cfg: cfg, log: log.With("part", "portal"), pages: r, now: time.Now, accepted: accepted,
		passSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	s.settings = newSettingsCache(s)
	return s, nil
}

var _ secureline.PortalHooks = (*Service)(nil)

// Run destroys expired copies every SweepEvery until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("portal sweep", "err", err)
		} else if n > 0 {
			s.log.Info("portal copies expired", "copies", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep destroys the keys of copies past their expiry and records portal.expired.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		list, err := s.db.ExpiredPortals(ctx, s.now(), 100)
		if err != nil || len(list) == 0 {
			return total, err
		}
		for _, p := range list {
			if err := s.destroy(ctx, p, "expired", "system:portal", ""); err != nil {
				return total, err
			}
			total++
		}
	}
}

// destroy destroys one copy's key and content with its event and audit entry.
func (s *Service) destroy(ctx context.Context, p *store.PortalMessage, why, principal, client string) error {
	keys, err := s.tenants.Keys(ctx, p.TenantID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		done, err := tx.DestroyPortal(ctx, p, why, now)
		if err != nil || !done {
			return err
		}
		return s.record(ctx, tx, keys, p, "portal."+why, principal, client, nil)
	})
}

// record appends an event on the recipient's timeline and an audit entry, in tx. The
// event's data is sealed; the audit entry holds ids and results only.
func (s *Service) record(ctx context.Context, tx *store.Tx, keys *tenant.Keys, p *store.PortalMessage, typ, principal, client string, data map[string]any) error {
	now := s.now()
	if data == nil {
		data = map[string]any{}
	}
	data["portal_message_id"] = p.ID
	if s.observe != nil {
		tx.AfterCommit(func() { s.observe(typ) })
	}
	b, _ := json.Marshal(data)
	if err := tx.InsertEvents(ctx, &store.Event{TenantID: p.TenantID, MessageID: p.MessageID, RecipientID: p.RecipientID, Type: typ, At: now,
		Data: keys.Data.Seal(b, "event/"+p.RecipientID)}); err != nil {
		return err
	}
	result := "ok"
	if typ == "portal.code_failed" || typ == "portal.locked" {
		result = "denied"
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: now, TenantID: p.TenantID, Principal: principal, Action: typ, Object: p.ID, Result: result,
		Client: client, Detail: "message " + p.MessageID})
}

// clientIP is the address failures are counted against.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
