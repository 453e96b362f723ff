package tlssec

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// DANE outcomes for HostTLS.DANE.
const (
	DANEValid    = "valid"    // a usable, authenticated TLSA record matched
	DANEMismatch = "mismatch" // usable, authenticated records, none matched
)

// maxProbeHosts bounds the MX hosts probed for one domain; more than this
// is a misconfiguration, not a reason to open dozens of connections.
const maxProbeHosts = 10

// Capability is what a recipient domain's mail servers can receive.
type Capability struct {
	Domain      string    `json:"domain"`
	CheckedAt   time.Time `json:"checked_at"`
	MX          []HostTLS `json:"mx"` // most preferred first; empty for a null MX
	MTASTS      string    `json:"mta_sts"`
	MTASTSError string    `json:"mta_sts_error,omitempty"`
	// VerifiedTLS is true only if every MX host offers STARTTLS with
	// TLS 1.2 or later and authenticates: by a matching DANE record if it
	// has usable ones, otherwise by a certificate valid for its name. Mail
	// may go to any of the hosts, so one weak host makes the domain weak.
	VerifiedTLS bool `json:"verified_tls"`
}

// HostTLS is what one MX host offered.
type HostTLS struct {
	Host         string `json:"host"`
	Addr         string `json:"addr,omitempty"` // ip:port that answered
	STARTTLS     bool   `json:"starttls"`
	Version      string `json:"version,omitempty"` // "TLSv1.3"
	Cipher       string `json:"cipher,omitempty"`
	CertVerified bool   `json:"cert_verified"` // WebPKI, for the host name
	CertError    string `json:"cert_error,omitempty"`
	DANE         string `json:"dane,omitempty"` // "", DANEValid or DANEMismatch
	DANEError    string `json:"dane_error,omitempty"`
	Error        string `json:"error,omitempty"` // no connection, or the handshake failed
}

// Prober finds out, and caches, the Capability of recipient domains.
type Prober struct {
	Resolver *net.Resolver  // nil: net.DefaultResolver
	DNSSEC   *DNSSEC        // nil: DANE is not checked
	STS      *STS           // nil: MTA-STS is not checked
	RootCAs  *x509.CertPool // WebPKI roots; nil: system roots
	Port     int            // SMTP port; 0: 25
	HeloName string         // "": "localhost"
	Timeout  time.Duration  // per MX host; 0: 30s
	Cache    Cache          // nil: a private MemoryCache
	TTL      time.Duration  // how long a result is reused; 0: one hour
	Logger   *slog.Logger   // nil: discard

	once  sync.Once
	cache Cache
}

// Probe returns the capability of domain, from the cache if a result
// younger than TTL is there. The error is reserved for failures to find
// the MX hosts at all; what the hosts lack is in the Capability.
func (p *Prober) Probe(ctx context.Context, domain string) (*Capability, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if domain == "" {
		return nil, errors.New("empty domain")
	}
	key := "tls-capability:" + domain
	if val, ok := p.getCache().Get(ctx, key); ok {
		var c Capability
		if json.Unmarshal(val, &c) == nil {
			return &c, nil
		}
	}
	return p.probeAndStore(ctx, domain, false)
}

// ProbeFresh probes domain now, reading nothing cached (neither an earlier
// capability nor a cached MTA-STS policy), and stores the result for
// Probe. Its answer and its duration depend only on the domain, not on who
// else asked before: a view for one party of a cache shared by many uses
// it so that the cache cannot tell one party of another's mail.
func (p *Prober) ProbeFresh(ctx context.Context, domain string) (*Capability, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if domain == "" {
		return nil, errors.New("empty domain")
	}
	return p.probeAndStore(ctx, domain, true)
}

// probeAndStore probes domain and caches the result under its key.
func (p *Prober) probeAndStore(ctx context.Context, domain string, fresh bool) (*Capability, error) {
	key := "tls-capability:" + domain
	c, err := p.probe(ctx, domain, fresh)
	if err != nil {
		return nil, err
	}
	if val, err := json.Marshal(c); err == nil {
		ttl := p.TTL
		if ttl <= 0 {
			ttl = time.Hour
		}
		p.getCache().Put(ctx, key, val, c.CheckedAt.Add(ttl))
	}
	return c, nil
}

// probe does the work of Probe; fresh fetches the MTA-STS policy even if a
// cached one is current.
func (p *Prober) probe(ctx context.Context, domain string, fresh bool) (*Capability, error) {
	c := &Capability{Domain: domain, CheckedAt: time.Now().UTC()}
	hosts, implicit, err := p.mxHosts(ctx, domain)
	if err != nil {
		return nil, err
	}
	// RFC 7672 2.2.1: DANE applies only to MX hosts from a secure MX
	// RRset, or for an implicit MX a secure address RRset.
	secure, secErr := false, error(nil)
	if p.DNSSEC != nil && len(hosts) > 0 {
		if implicit {
			_, secure, secErr = p.DNSSEC.LookupAddrSecure(ctx, domain)
		} else {
			_, secure, secErr = p.DNSSEC.LookupMXSecure(ctx, domain)
		}
	}
	if p.STS != nil {
		policy := p.STS.Policy
		if fresh {
			policy = p.STS.FreshPolicy
		}
		switch pol, err := policy(ctx, domain); {
		case err != nil:
			c.MTASTSError = err.Error()
		case pol != nil:
			c.MTASTS = pol.Mode
		}
	}

	c.MX = make([]HostTLS, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			c.MX[i] = p.probeHost(ctx, h, secure, secErr)
		})
	}
	wg.Wait()
	c.VerifiedTLS = len(c.MX) > 0
	for _, h := range c.MX {
		c.VerifiedTLS = c.VerifiedTLS && h.verified()
	}
	p.logger().Info("TLS capability probed", "domain", domain, "mx", len(c.MX),
		"mta_sts", c.MTASTS, "verified_tls", c.VerifiedTLS)
	return c, nil
}

// verified reports whether mail to h would travel over authenticated TLS
// 1.2 or later. With usable DANE records only a DANE match counts
// (RFC 7672 2.2, RFC 8461 2).
func (h HostTLS) verified() bool {
	if !h.STARTTLS || (h.Version != "TLSv1.2" && h.Version != "TLSv1.3") || h.Error != "" {
		return false
	}
	switch h.DANE {
	case DANEValid:
		return true
	case DANEMismatch:
		return false
	}
	return h.CertVerified && h.DANEError == ""
}

// mxHosts returns the MX host names of domain, most preferred first, or
// the domain itself as implicit MX (RFC 5321 5.1). A null MX (RFC 7505)
// yields no hosts.
func (p *Prober) mxHosts(ctx context.Context, domain string) (hosts []string, implicit bool, err error) {
	mxs, err := p.resolver().LookupMX(ctx, domain+".")
	if len(mxs) == 0 {
		var dnsErr *net.DNSError
		if err != nil && (!errors.As(err, &dnsErr) || !dnsErr.IsNotFound) {
			return nil, false, fmt.Errorf("MX lookup for %s: %w", domain, err)
		}
		if _, err := p.resolver().LookupNetIP(ctx, "ip", domain+"."); err != nil {
			return nil, false, fmt.Errorf("%s has neither MX nor address records: %w", domain, err)
		}
		return []string{domain}, true, nil
	}
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return cmp.Compare(a.Pref, b.Pref) })
	for _, mx := range mxs {
		host := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if host != "" && !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) > maxProbeHosts {
		hosts = hosts[:maxProbeHosts]
	}
	return hosts, false, nil
}

func (p *Prober) getCache() Cache {
	if p.Cache != nil {
		return p.Cache
	}
	p.once.Do(func() { p.cache = NewMemoryCache(nil) })
	return p.cache
}

func (p *Prober) resolver() *net.Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

func (p *Prober) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
