package tenant

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"

	"github.com/sealpost/sealpost/internal/store"
)

// VerifyRecord is where a tenant proves it owns a domain: a TXT record at
// _sealpost.<domain> holding "sealpost-verify=<token>".
func VerifyRecord(d *store.Domain) (name, value string) {
	return "_sealpost." + d.Name, "sealpost-verify=" + d.VerifyToken
}

// NormalizeDomain lowercases and converts a domain to its ASCII form, or says why not.
func NormalizeDomain(name string) (string, error) {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	a, err := idna.Lookup.ToASCII(name)
	if err != nil || !strings.Contains(a, ".") || len(a) > 253 {
		return "", invalid("%q is not a valid domain name", name)
	}
	return a, nil
}

// AddDomain claims a domain for a tenant; verified skips the DNS proof (operator use).
func (s *Service) AddDomain(ctx context.Context, tenantID, name string, verified bool) (*store.Domain, error) {
	n, err := NormalizeDomain(name)
	if err != nil {
		return nil, err
	}
	d := &store.Domain{ID: NewID("dom"), TenantID: tenantID, Name: n, Verified: verified,
		VerifyToken: strings.ToLower(NewID("v")[2:]), CreatedAt: s.now()}
	if verified {
		d.VerifiedAt = d.CreatedAt
	}
	if err := s.db.AddDomain(ctx, d); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &InvalidError{fmt.Sprintf("domain %s is already registered", n)}
		}
		return nil, err
	}
	return d, nil
}

// VerifyDomain looks up the domain's verification TXT record and marks it verified.
func (s *Service) VerifyDomain(ctx context.Context, r *net.Resolver, tenantID, name string) error {
	n, err := NormalizeDomain(name)
	if err != nil {
		return err
	}
	d, err := s.db.Domain(ctx, tenantID, n)
	if err != nil {
		return err
	}
	if d.Verified {
		return nil
	}
	rname, want := VerifyRecord(d)
	txts, err := r.LookupTXT(ctx, rname)
	if err != nil {
		return invalid("no TXT record found at %s", rname)
	}
	for _, t := range txts {
		if strings.TrimSpace(t) == want {
			return s.db.MarkDomainVerified(ctx, tenantID, n, s.now())
		}
	}
	return invalid("TXT %s does not hold %q yet", rname, want)
}

// SenderAllowed reports whether a tenant may send from an address's domain: the domain
// (or a parent of it) must be one of its verified domains. Every message asks, so a
// domain found verified is remembered for senderTTL.
func (s *Service) SenderAllowed(ctx context.Context, tenantID, domain string) (bool, error) {
	now := s.now()
	ok, gen := s.senders.get(tenantID, domain, now)
	if ok {
		return true, nil
	}
	for d := domain; strings.Contains(d, "."); {
		got, err := s.db.Domain(ctx, tenantID, d)
		if err == nil && got.Verified {
			s.senders.put(tenantID, d, now.Add(senderTTL), gen)
			return true, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		_, rest, _ := strings.Cut(d, ".")
		d = rest
	}
	return false, nil
}

// DeleteDomain removes a tenant's domain; this process stops accepting mail from it
// at once (others within senderTTL). The tenant's remembered domains are forgotten
// once the row is gone, and a lookup that read it before cannot remember it after.
func (s *Service) DeleteDomain(ctx context.Context, tenantID, name string) error {
	err := s.db.DeleteDomain(ctx, tenantID, name)
	s.senders.drop(tenantID)
	return err
}

// senderTTL bounds how long another process sharing the database may keep accepting
// mail from a domain removed there. Only verified domains are remembered: one
// verified a moment ago is looked up, and found, at once.
const senderTTL = 5 * time.Second

// senderCache remembers verified sender domains, by tenant and domain.
type senderCache struct {
	mu sync.Mutex
	m  map[string]time.Time // tenant "\x00" domain → remembered until
	// gen counts removals: a domain read before one returned must not be
	// remembered after it (the authCache's rule).
	gen uint64
}

// get reports whether the domain or a parent is remembered as verified, and the
// generation a lookup that misses hands to put.
func (c *senderCache) get(tenantID, domain string, now time.Time) (bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for d := domain; strings.Contains(d, "."); {
		if until, ok := c.m[tenantID+"\x00"+d]; ok && now.Before(until) {
			return true, c.gen
		}
		_, d, _ = strings.Cut(d, ".")
	}
	return false, c.gen
}

func (c *senderCache) put(tenantID, domain string, until time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]time.Time{}
	}
	c.m[tenantID+"\x00"+domain] = until
}

// drop forgets a tenant's domains (once one is removed).
func (c *senderCache) drop(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k := range c.m {
		if strings.HasPrefix(k, tenantID+"\x00") {
			delete(c.m, k)
		}
	}
}

// DKIMKey returns the active DKIM signing key for a tenant's domain, unsealed.
func (s *Service) DKIMKey(ctx context.Context, tenantID, domain string) (*store.DKIMKey, []byte, error) {
	k, err := s.db.ActiveDKIMKey(ctx, tenantID, domain)
	if err != nil {
		return nil, nil, err
	}
	keys, err := s.Keys(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	pem, err := keys.Data.Open(k.PrivateKey, "dkim/"+k.ID)
	if err != nil {
		return nil, nil, err
	}
	return k, pem, nil
}

// AddDKIMKey seals and stores a DKIM private key (PKCS#8 PEM) for a tenant's domain.
func (s *Service) AddDKIMKey(ctx context.Context, tenantID string, k *store.DKIMKey, pem []byte) error {
	keys, err := s.Keys(ctx, tenantID)
	if err != nil {
		return err
	}
	k.ID = NewID("dkim")
	k.TenantID = tenantID
	k.CreatedAt = s.now()
	k.PrivateKey = keys.Data.Seal(pem, "dkim/"+k.ID)
	return s.db.AddDKIMKey(ctx, k)
}
