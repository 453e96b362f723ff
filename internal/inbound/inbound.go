// Package inbound is the inbound gateway's domain: the domains a tenant protects (their
// MX points at Sealpost) with the host their mail is forwarded to and the policy on
// the way; the judgement of each received message (SPF, DKIM, DMARC, dangerous
// attachments, optional DLP); the durable forwarding of what passes over verified TLS;
// and the quarantine of what does not — one service the API, the CLI and the dashboard
// all call.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"

	"github.com/sealpost/sealpost/internal/dlp"
	"github.com/sealpost/sealpost/internal/mailauth"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Policy actions.
const (
	ActionQuarantine = "quarantine" // accept (250) and hold sealed for an administrator
	ActionReject     = "reject"     // refuse at the end of DATA (550 5.7.1); DMARC only
	ActionNone       = "none"       // add the verdict header and forward
)

// Scanner runs the tenant's DLP rules (secureline.Service is one).
type Scanner interface {
	Scan(ctx context.Context, tenantID string, in dlp.Input) ([]dlp.Finding, error)
}

// Config is how the gateway sees the world.
type Config struct {
	Hostname string            // our authserv-id and the name in Received
	Resolver mailauth.Resolver // DNS for SPF, DKIM and DMARC
	Journal  bool              // copy inbound mail into the archive
	Retry    []time.Duration   // delay after each failed forwarding attempt; the last repeats
	Expire   time.Duration     // a message not forwarded by then fails (0: 5 days)
	Lease    time.Duration     // how long a claimed message is ours (0: 10 minutes)
	Owner    string            // unique per process
}

// Service is the inbound gateway's one entry point.
type Service struct {
	db      *store.DB
	tenants *tenant.Service
	scan    Scanner
	out     Forwarder
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{}
	running sync.WaitGroup
}

// New builds the service; scan may be nil (no inbound DLP).
func New(db *store.DB, tenants *tenant.Service, scan Scanner, out Forwarder, cfg Config, log *slog.Logger) *Service {
	if len(cfg.Retry) == 0 {
		cfg.Retry = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}
	}
	if cfg.Expire <= 0 {
		cfg.Expire = 5 * 24 * time.Hour
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 10 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, tenants: tenants, scan: scan, out: out, cfg: cfg, log: log, now: time.Now, wake: make(chan struct{}, 1)}
}

// InvalidError is a bad argument, with the field it is about.
type InvalidError struct{ Field, Msg string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

// DomainOptions describe a protected domain.
type DomainOptions struct {
	Domain    string
	SmartHost string // host:port
	// Actions; "" takes the default: DMARC quarantine, attachments quarantine, DLP none.
	DMARC, Attachments, DLP string
}

// AddDomain registers a protected domain for a tenant. Every problem is reported at once.
func (s *Service) AddDomain(ctx context.Context, tenantID string, o DomainOptions) (*store.InboundDomain, error) {
	var bad []error
	domain, err := idna.Lookup.ToASCII(strings.TrimSuffix(strings.TrimSpace(o.Domain), "."))
	if err != nil || !strings.Contains(domain, ".") {
		bad = append(bad, &InvalidError{"domain", "must be a domain name, e.g. hospital.example"})
	}
	if err := checkHostPort(o.SmartHost); err != nil {
		bad = append(bad, &InvalidError{"smart_host", err.Error()})
	}
	pick := func(field, v, def string, allowed ...string) string {
		if v == "" {
			return def
		}
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		bad = append(bad, &InvalidError{field, "must be one of " + strings.Join(allowed, ", ")})
		return v
	}
	d := &store.InboundDomain{ID: tenant.NewID("ind"), TenantID: tenantID, Domain: strings.ToLower(domain), SmartHost: o.SmartHost,
		DMARCAction:      pick("dmarc_action", o.DMARC, ActionQuarantine, ActionQuarantine, ActionReject, ActionNone),
		AttachmentAction: pick("attachment_action", o.Attachments, ActionQuarantine, ActionQuarantine, ActionNone),
		DLPAction:        pick("dlp_action", o.DLP, ActionNone, ActionQuarantine, ActionNone), CreatedAt: s.now()}
	if len(bad) == 0 {
		// Only the owner of a domain may take its mail: one tenant must not claim
		// another's domain, or a domain nobody here owns.
		ok, err := s.tenants.SenderAllowed(ctx, tenantID, d.Domain)
		if err != nil {
			return nil, err
		}
		if !ok {
			bad = append(bad, &InvalidError{"domain", "must be a verified domain of this account, or a subdomain of one (add and verify it first)"})
		}
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	if err := s.db.AddInboundDomain(ctx, d); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &InvalidError{"domain", "is already protected"}
		}
		return nil, err
	}
	return d, nil
}

// checkHostPort accepts host:port with a DNS name or an IP address.
func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" {
		return errors.New("must be host:port, e.g. aspmx.l.google.com:25")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port must be 1 to 65535")
	}
	return nil
}

// Domains lists a tenant's protected domains.
func (s *Service) Domains(ctx context.Context, tenantID string) ([]*store.InboundDomain, error) {
	return s.db.InboundDomains(ctx, tenantID)
}

// RemoveDomain stops protecting a domain: its mail is refused from now on.
func (s *Service) RemoveDomain(ctx context.Context, tenantID, id string) error {
	return s.db.DeleteInboundDomain(ctx, tenantID, id)
}

// Lookup finds the protected domain a recipient domain belongs to; store.ErrNotFound
// when no tenant protects it.
func (s *Service) Lookup(ctx context.Context, domain string) (*store.InboundDomain, error) {
	d, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return nil, store.ErrNotFound
	}
	return s.db.InboundDomainByName(ctx, strings.ToLower(d))
}

// Notify wakes the forwarder (after a commit).
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
