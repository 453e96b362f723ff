package secureline

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// Capability reports what a recipient domain's mail servers offer: STARTTLS, TLS
// version, certificate verification, MTA-STS and DANE. Results are cached (in the
// database, shared by every process) by the prober.
func (s *Service) Capability(ctx context.Context, domain string) (*tlssec.Capability, error) {
	if s.cfg.Prober == nil {
		return nil, errNoProber
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.cfg.Prober.Probe(pctx, strings.ToLower(domain))
}

// DomainSecurity is Capability as one tenant may see it. The prober's cache is shared
// by every tenant, and its checked_at (or how fast an answer comes back) would tell a
// tenant when another last mailed the domain. So a tenant sees only probes it caused
// itself: the first question about a domain probes afresh (ProbeFresh reads nothing
// cached, so it takes as long whoever mailed the domain before), and the answer is
// kept for this tenant alone for the prober's TTL. The fresh result also refreshes
// the shared cache, which tells no one anything: no view reads it.
func (s *Service) DomainSecurity(ctx context.Context, tenantID, domain string) (*tlssec.Capability, error) {
	if s.cfg.Prober == nil {
		return nil, errNoProber
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	key := tenantID + "\x00" + domain
	now := s.now()
	s.mu.Lock()
	v, ok := s.views[key]
	s.mu.Unlock()
	if ok && now.Before(v.expires) {
		c := *v.c
		return &c, nil
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := s.cfg.Prober.ProbeFresh(pctx, domain)
	if err != nil {
		return nil, err
	}
	ttl := s.cfg.Prober.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	s.mu.Lock()
	if len(s.views) >= maxViews {
		clear(s.views) // crude bound: a cleared view costs its tenant one fresh probe
	}
	s.views[key] = view{c: c, expires: now.Add(ttl)}
	s.mu.Unlock()
	out := *c
	return &out, nil
}

// view is one tenant's own last probe of a domain.
type view struct {
	c       *tlssec.Capability
	expires time.Time
}

// maxViews bounds the per-tenant views held in memory.
const maxViews = 10000

type proberError string

func (e proberError) Error() string { return string(e) }

const errNoProber = proberError("TLS capability probing is not configured")

// tlsAvailable says whether every MX of the domain proves verified TLS.
func (s *Service) tlsAvailable(ctx context.Context, domain string) (bool, string) {
	return tlsVerdict(s.Capability(ctx, domain))
}

// tlsAvailableTo is tlsAvailable through the tenant's own view of the domain.
func (s *Service) tlsAvailableTo(ctx context.Context, tenantID, domain string) (bool, string) {
	return tlsVerdict(s.DomainSecurity(ctx, tenantID, domain))
}

func tlsVerdict(c *tlssec.Capability, err error) (bool, string) {
	if err != nil {
		return false, "TLS probe failed: " + err.Error()
	}
	if c.VerifiedTLS {
		return true, ""
	}
	return false, tlsShortfall(c)
}

// tlsShortfall names the first MX that keeps the domain from verified TLS.
func tlsShortfall(c *tlssec.Capability) string {
	for _, h := range c.MX {
		switch {
		case !h.STARTTLS:
			return h.Host + " offers no STARTTLS"
		case h.DANE == "mismatch":
			return h.Host + " certificate does not match its DANE TLSA records"
		case !h.CertVerified && h.DANE != "valid":
			return h.Host + " certificate does not verify: " + h.CertError
		}
	}
	if len(c.MX) == 0 {
		return "no mail server could be probed"
	}
	return "verified TLS not proven"
}

// StoreCache keeps tlssec results in the database so every process shares them, with
// a short-lived copy in memory so a busy queue does not read the database for every
// delivery to the same domain.
type StoreCache struct {
	DB  *store.DB
	Now func() time.Time

	mu  sync.Mutex
	mem map[string]memEntry
}

type memEntry struct {
	val     []byte
	expires time.Time // the earlier of the value's expiry and memTTL after loading
}

// memTTL bounds how stale another process's newer result can be here.
const memTTL = 30 * time.Second

// NewStoreCache returns a cache over db.
func NewStoreCache(db *store.DB) *StoreCache {
	return &StoreCache{DB: db, Now: time.Now, mem: map[string]memEntry{}}
}

// Get implements tlssec.Cache.
func (c *StoreCache) Get(ctx context.Context, key string) ([]byte, bool) {
	now := c.Now()
	c.mu.Lock()
	e, ok := c.mem[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.val, e.val != nil
	}
	v, ok := c.DB.CacheGet(ctx, key, now)
	// A miss is remembered too (as nil): most recipient domains publish no MTA-STS
	// policy, and asking the database on every delivery to learn that again costs
	// more than the lookup it saves. A Put here replaces it at once.
	c.remember(key, v, now.Add(memTTL))
	return v, ok
}

// Put implements tlssec.Cache.
func (c *StoreCache) Put(ctx context.Context, key string, val []byte, expires time.Time) {
	_ = c.DB.CachePut(ctx, key, val, expires)
	exp := c.Now().Add(memTTL)
	if expires.Before(exp) {
		exp = expires
	}
	c.remember(key, val, exp)
}

func (c *StoreCache) remember(key string, val []byte, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.mem) > 10000 {
		clear(c.mem) // crude bound; the database still has everything
	}
	c.mem[key] = memEntry{val: val, expires: exp}
}

var _ tlssec.Cache = (*StoreCache)(nil)
