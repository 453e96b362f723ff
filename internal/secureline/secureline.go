// Package secureline secures each recipient's copy of a message by policy: it scans
// content for PHI, keeps tenants' policies and recipients' keys, learns what each
// recipient domain can receive, chooses the method per recipient and turns a message
// into the form that method sends.
package secureline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/dlp"
	"github.com/sealpost/sealpost/internal/pgpmime"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// Config wires the service to the network.
type Config struct {
	Prober *tlssec.Prober // nil: TLS capability is never known, so "tls" is never chosen
	WKD    *pgpmime.WKD   // nil: keys come only from registration
	// PortalURL is the base of portal links, e.g. "https://secure.clinic.example".
	PortalURL    string
	PortalExpiry time.Duration // 0: 30 days
}

// Service is SecureLine.
type Service struct {
	db      *store.DB
	tenants *tenant.Service
	cfg     Config
	log     *slog.Logger
	now     func() time.Time

	mu       sync.Mutex
	policies map[string]*compiled
	signers  map[string]*signers
	views    map[string]view // by tenant and domain: DomainSecurity
	portal   PortalHooks
}

type compiled struct {
	doc     *policy.Document
	scanner *dlp.Scanner
	version int64
	loaded  time.Time
}

// policyTTL bounds how long another process's policy change takes to apply here.
const policyTTL = 5 * time.Second

// New builds the service.
func New(db *store.DB, tenants *tenant.Service, cfg Config, log *slog.Logger) *Service {
	if cfg.PortalExpiry <= 0 {
		cfg.PortalExpiry = 30 * 24 * time.Hour
	}
	return &Service{db: db, tenants: tenants, cfg: cfg, log: log.With("component", "secureline"), now: time.Now, policies: map[string]*compiled{}, signers: map[string]*signers{}, views: map[string]view{}}
}

// Policy returns the tenant's policy document (the default when it has none) and its
// version (0 for the default).
func (s *Service) Policy(ctx context.Context, tenantID string) (*policy.Document, int64, error) {
	c, err := s.compiled(ctx, tenantID)
	if err != nil {
		return nil, 0, err
	}
	return c.doc, c.version, nil
}

func (s *Service) compiled(ctx context.Context, tenantID string) (*compiled, error) {
	s.mu.Lock()
	c := s.policies[tenantID]
	s.mu.Unlock()
	if c != nil && s.now().Sub(c.loaded) < policyTTL {
		return c, nil
	}
	doc := &policy.Document{}
	sealed, version, err := s.db.Policy(ctx, tenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		keys, err := s.tenants.Keys(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		b, err := keys.Data.Open(sealed, "policy/"+tenantID)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, doc); err != nil {
			return nil, err
		}
	}
	sc, err := doc.Scanner()
	if err != nil {
		return nil, err
	}
	c = &compiled{doc: doc, scanner: sc, version: version, loaded: s.now()}
	s.mu.Lock()
	s.policies[tenantID] = c
	s.mu.Unlock()
	return c, nil
}

// SetPolicy validates and stores a tenant's policy; audit, if set, commits with it.
func (s *Service) SetPolicy(ctx context.Context, tenantID string, doc *policy.Document, audit *store.AuditEntry) (int64, error) {
	if inv := doc.Check(); len(inv) > 0 {
		return 0, inv
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	b, _ := json.Marshal(doc)
	sealed := keys.Data.Seal(b, "policy/"+tenantID)
	var v int64
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if v, err = tx.PutPolicy(ctx, tenantID, sealed, s.now()); err != nil {
			return err
		}
		if audit != nil {
			return tx.AppendAudit(ctx, audit)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	delete(s.policies, tenantID)
	s.mu.Unlock()
	return v, nil
}

// Scan runs the built-in detectors and the tenant's own over a message's content. What
// could not be inspected (an encrypted or corrupt archive, a limit reached) is reported
// as an "unscanned" finding, so the policy treats it as possible PHI: fail closed.
func (s *Service) Scan(ctx context.Context, tenantID string, in dlp.Input) ([]dlp.Finding, error) {
	c, err := s.compiled(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	r := c.scanner.ScanReport(in)
	if r.Incomplete {
		r.Findings = append(r.Findings, dlp.Finding{Category: policy.Unscanned, Count: 1, Confidence: dlp.High})
	}
	return r.Findings, nil
}

// Decision is what the policy says of a whole message, with a plan per recipient
// domain.
type Decision struct {
	Action     string                  `json:"action"` // secure, block or quarantine
	Reasons    []string                `json:"reasons"`
	Plans      map[string]*policy.Plan `json:"-"`
	Categories []string                `json:"categories,omitempty"`
	// Tracking is the tenant's tracking default and its rule for PHI.
	Tracking policy.Tracking `json:"-"`
}

// Decide evaluates the tenant's policy for each recipient domain. A block anywhere
// blocks the message; otherwise a quarantine anywhere holds it.
func (s *Service) Decide(ctx context.Context, tenantID string, m *policy.Message, domains []string) (*Decision, error) {
	c, err := s.compiled(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	d := &Decision{Action: policy.ActionSecure, Plans: map[string]*policy.Plan{}, Categories: policy.Categories(m.Findings), Tracking: c.doc.Tracking}
	for _, dom := range domains {
		if d.Plans[dom] != nil {
			continue
		}
		p := c.doc.Plan(m, dom)
		d.Plans[dom] = &p
		switch {
		case p.Action == policy.ActionBlock:
			d.Action, d.Reasons = policy.ActionBlock, p.Reasons
		case p.Action == policy.ActionQuarantine && d.Action != policy.ActionBlock:
			d.Action, d.Reasons = policy.ActionQuarantine, p.Reasons
		}
	}
	return d, nil
}
