package tlssec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxPolicySize bounds the policy body read; RFC 8461 3.3 suggests 64 KiB.
const maxPolicySize = 64 << 10

// STS finds the MTA-STS policy of recipient domains (RFC 8461) and caches
// it for its max_age. It is safe for concurrent use and must not be copied
// after first use.
type STS struct {
	Resolver *net.Resolver // TXT lookups; nil: net.DefaultResolver
	// Client fetches policies and must verify TLS against its roots
	// (RFC 8461 3.3); its redirect policy is overridden. nil:
	// http.DefaultClient.
	Client  *http.Client
	Cache   Cache            // nil: a private MemoryCache
	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
	Timeout time.Duration    // per policy fetch; 0: one minute, as RFC 8461 3.3 suggests
	// RecordTTL is how long Policy reuses a domain's TXT answer (its id, or that it
	// has none) before asking DNS again; 0 asks on every call. A burst of mail to
	// one domain then costs one lookup, and a new policy id is still seen within
	// RecordTTL. Errors are never reused.
	RecordTTL time.Duration

	mu      sync.Mutex
	cache   Cache                   // Cache, or the private one
	flights map[string]*flight      // fetches in progress, by domain
	records map[string]recordAnswer // TXT answers, by domain, while RecordTTL lasts
}

// recordAnswer is one domain's TXT answer: its policy id, or errNoRecord.
type recordAnswer struct {
	id      string
	none    bool
	expires time.Time
}

// maxRecords bounds the TXT answers kept; past it, expired ones are dropped first
// and then all, so a flood of domains cannot grow the map without bound.
const maxRecords = 10000

// flight is one policy fetch that concurrent callers wait for, so that a
// burst of mail to a new domain fetches its policy once.
type flight struct {
	done chan struct{}
	pol  STSPolicy
	err  error
}

// errNoRecord means the domain publishes no _mta-sts TXT record.
var errNoRecord = errors.New("no MTA-STS record")

// Policy returns the policy in force for domain, or nil and no error if
// the domain has none. A policy is fetched only when the TXT id differs
// from the cached policy's (RFC 8461 3.3, 5.1). If the TXT record is gone
// or the fetch fails, an unexpired cached policy stays in force
// (RFC 8461 5.1, 8.3): an attacker who can block the lookup must not be
// able to switch the policy off. Without one, the error says why no policy
// could be found; delivery then proceeds as for a domain without a policy.
func (s *STS) Policy(ctx context.Context, domain string) (*STSPolicy, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	key := "mta-sts:" + domain
	cached := s.cached(ctx, key)
	id, err := s.recordID(ctx, domain)
	if err != nil {
		if cached != nil {
			s.logger().Debug("MTA-STS record unavailable, using cached policy", "domain", domain, "reason", err.Error())
			return cached, nil
		}
		if errors.Is(err, errNoRecord) {
			return nil, nil
		}
		return nil, err
	}
	if cached != nil && cached.ID == id {
		return cached, nil
	}
	pol, err := s.fetchShared(ctx, domain)
	if err != nil {
		if cached != nil {
			s.logger().Warn("MTA-STS policy fetch failed, using cached policy", "domain", domain, "error", err.Error())
			return cached, nil
		}
		return nil, err
	}
	pol.ID = id
	s.store(ctx, key, &pol)
	s.logger().Debug("MTA-STS policy fetched", "domain", domain, "mode", pol.Mode, "max_age", pol.MaxAge.String())
	return &pol, nil
}

// FreshPolicy returns the policy domain publishes now: it looks up the TXT
// record and fetches the policy whatever is cached, then caches what it
// fetched, as Policy would. Unlike Policy it never answers from the cache,
// so what it returns (and how long it takes) reveals nothing of earlier
// lookups; a cached policy still in force after a failed fetch is not
// reported here, though Policy keeps enforcing it.
func (s *STS) FreshPolicy(ctx context.Context, domain string) (*STSPolicy, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	id, err := s.lookupID(ctx, domain)
	if errors.Is(err, errNoRecord) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pol, err := s.fetch(ctx, domain)
	if err != nil {
		return nil, err
	}
	pol.ID = id
	s.store(ctx, "mta-sts:"+domain, &pol)
	return &pol, nil
}

// recordID is lookupID through the TXT answers of the last RecordTTL.
func (s *STS) recordID(ctx context.Context, domain string) (string, error) {
	if s.RecordTTL <= 0 {
		return s.lookupID(ctx, domain)
	}
	now := s.now()
	s.mu.Lock()
	a, ok := s.records[domain]
	s.mu.Unlock()
	if ok && now.Before(a.expires) {
		if a.none {
			return "", errNoRecord
		}
		return a.id, nil
	}
	id, err := s.lookupID(ctx, domain)
	if err != nil && !errors.Is(err, errNoRecord) {
		return "", err
	}
	s.mu.Lock()
	if s.records == nil {
		s.records = map[string]recordAnswer{}
	}
	if len(s.records) >= maxRecords {
		for d, a := range s.records {
			if !now.Before(a.expires) {
				delete(s.records, d)
			}
		}
		if len(s.records) >= maxRecords {
			clear(s.records)
		}
	}
	s.records[domain] = recordAnswer{id: id, none: err != nil, expires: now.Add(s.RecordTTL)}
	s.mu.Unlock()
	return id, err
}

// lookupID returns the id of the domain's single valid STSv1 TXT record.
func (s *STS) lookupID(ctx context.Context, domain string) (string, error) {
	resolver := s.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	txts, err := resolver.LookupTXT(ctx, "_mta-sts."+domain+".")
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return "", errNoRecord
	}
	if err != nil {
		return "", fmt.Errorf("MTA-STS record of %s: %w", domain, err)
	}
	// RFC 8461 3.1: records not starting with "v=STSv1;" are ignored, and
	// anything but exactly one remaining means no policy.
	var recs []string
	for _, t := range txts {
		if strings.HasPrefix(t, "v=STSv1;") || t == "v=STSv1" {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		return "", errNoRecord
	case 1:
	default:
		return "", fmt.Errorf("%s publishes %d MTA-STS records", domain, len(recs))
	}
	id, err := ParseRecord(recs[0])
	if err != nil {
		return "", fmt.Errorf("MTA-STS record of %s: %w", domain, err)
	}
	return id, nil
}

// fetchShared fetches the policy, joining a fetch already under way.
func (s *STS) fetchShared(ctx context.Context, domain string) (STSPolicy, error) {
	s.mu.Lock()
	if f, ok := s.flights[domain]; ok {
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.pol, f.err
		case <-ctx.Done():
			return STSPolicy{}, ctx.Err()
		}
	}
	if s.flights == nil {
		s.flights = make(map[string]*flight)
	}
	f := &flight{done: make(chan struct{})}
	s.flights[domain] = f
	s.mu.Unlock()

	f.pol, f.err = s.fetch(ctx, domain)
	s.mu.Lock()
	delete(s.flights, domain)
	s.mu.Unlock()
	close(f.done)
	return f.pol, f.err
}

// fetch GETs and parses https://mta-sts.<domain>/.well-known/mta-sts.txt.
func (s *STS) fetch(ctx context.Context, domain string) (STSPolicy, error) {
	url := "https://mta-sts." + domain + "/.well-known/mta-sts.txt" // RFC 8461 3.3
	client := http.DefaultClient
	if s.Client != nil {
		client = s.Client
	}
	noRedirect := *client
	// RFC 8461 3.3: redirects must not be followed; the 3xx is then an
	// ordinary non-200 answer.
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return STSPolicy{}, fmt.Errorf("MTA-STS policy of %s: %w", domain, err)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return STSPolicy{}, fmt.Errorf("fetching MTA-STS policy of %s: %w", domain, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK { // RFC 8461 3.3: only 200 counts
		return STSPolicy{}, fmt.Errorf("MTA-STS policy of %s: HTTP status %s", domain, resp.Status)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return STSPolicy{}, fmt.Errorf("MTA-STS policy of %s: content type %q, want text/plain", domain, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPolicySize+1))
	if err != nil {
		return STSPolicy{}, fmt.Errorf("reading MTA-STS policy of %s: %w", domain, err)
	}
	if len(body) > maxPolicySize {
		return STSPolicy{}, fmt.Errorf("MTA-STS policy of %s exceeds %d bytes", domain, maxPolicySize)
	}
	pol, err := ParsePolicy(string(body))
	if err != nil {
		return STSPolicy{}, fmt.Errorf("MTA-STS policy of %s: %w", domain, err)
	}
	return *pol, nil
}

// cached returns the unexpired cached policy under key, if any.
func (s *STS) cached(ctx context.Context, key string) *STSPolicy {
	val, ok := s.getCache().Get(ctx, key)
	if !ok {
		return nil
	}
	var p STSPolicy
	if json.Unmarshal(val, &p) != nil || p.Mode == "" {
		return nil // unreadable: as if absent, and the next fetch replaces it
	}
	return &p
}

// store caches p until its max_age runs out (RFC 8461 3.2, 5.1).
func (s *STS) store(ctx context.Context, key string, p *STSPolicy) {
	val, err := json.Marshal(p)
	if err != nil {
		return
	}
	s.getCache().Put(ctx, key, val, s.now().Add(p.MaxAge))
}

func (s *STS) getCache() Cache {
	if s.Cache != nil {
		return s.Cache
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = NewMemoryCache(s.Now)
	}
	return s.cache
}

func (s *STS) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *STS) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
