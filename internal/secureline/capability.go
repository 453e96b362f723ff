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

type proberError string

func (e proberError) Error() string { return string(e) }

const errNoProber = proberError("TLS capability probing is not configured")

// tlsAvailable says whether every MX of the domain proves verified TLS.
func (s *Service) tlsAvailable(ctx context.Context, domain string) (bool, string) {
	c, err := s.Capability(ctx, domain)
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
