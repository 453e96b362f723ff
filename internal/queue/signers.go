package queue

import (
	"context"
	"crypto"
	"errors"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/store"
)

// signingSlots bound how many DKIM signatures run at once. An RSA-2048 signature is
// about a millisecond of CPU; with every core signing, requests to the API wait behind
// delivery. While the API is busy one core is kept for it; otherwise every core signs.
type signingSlots struct {
	core  chan struct{} // GOMAXPROCS-1 slots (at least one), always usable
	extra chan struct{} // one more, only while the API is idle
	busy  func() bool
}

// cpus is GOMAXPROCS as the runtime chose it at start, before a server gave itself
// spare Ps (server.spareProcs): the cores there are to leave one of to the API.
var cpus = runtime.GOMAXPROCS(0)

// newSigningSlots makes slots for a machine of n cores.
func newSigningSlots(n int, busy func() bool) *signingSlots {
	s := &signingSlots{core: make(chan struct{}, max(1, n-1)), busy: busy}
	if n > 1 {
		s.extra = make(chan struct{}, 1)
	}
	return s
}

// acquire waits for a slot and returns its release, or nil when ctx ends first.
func (s *signingSlots) acquire(ctx context.Context) func() {
	for {
		select {
		case s.core <- struct{}{}:
			return func() { <-s.core }
		default:
		}
		if s.extra != nil && (s.busy == nil || !s.busy()) {
			select {
			case s.extra <- struct{}{}:
				return func() { <-s.extra }
			default:
			}
		}
		// Wait for a core slot, looking again at the API now and then.
		t := time.NewTimer(2 * time.Millisecond)
		select {
		case s.core <- struct{}{}:
			t.Stop()
			return func() { <-s.core }
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// signerTTL bounds how long a rotated or removed DKIM key keeps signing here.
const signerTTL = 30 * time.Second

// signerCache keeps each sender domain's parsed DKIM key briefly: loading, unsealing
// and parsing it cost about 0.15 ms, paid per message otherwise.
type signerCache struct {
	mu sync.Mutex
	m  map[string]cachedSigner
	// load makes one load of a domain's key at a time: when the cache is cold or an
	// entry expires, every delivery in flight for the domain misses at once, and each
	// load costs milliseconds of CPU (unsealing, parsing, and, for an accelerated RSA
	// key, signing twice to compare engines). Dozens at once starve the API.
	load singleflight.Group
}

type cachedSigner struct {
	key      *store.DKIMKey // nil: the domain has no key
	priv     crypto.Signer
	loadedAt time.Time
}

// get returns id's cached signer, or loads it: one load at a time per id, shared by
// every caller that missed meanwhile.
func (c *signerCache) get(id string, now time.Time, load func() (cachedSigner, error)) (cachedSigner, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(e.loadedAt) < signerTTL {
		return e, nil
	}
	v, err, _ := c.load.Do(id, func() (any, error) {
		e, err := load()
		if err != nil {
			return e, err
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) > 10000 {
			c.m = map[string]cachedSigner{}
		}
		c.m[id] = e
		c.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return cachedSigner{}, err
	}
	return v.(cachedSigner), nil
}

// signer returns the tenant's DKIM key for domain and its parsed private key; a nil
// key means the domain signs nothing.
func (w *Worker) signer(ctx context.Context, tenantID, domain string) (*store.DKIMKey, crypto.Signer, error) {
	now := w.now()
	c, err := w.signers.get(tenantID+"\x00"+domain, now, func() (cachedSigner, error) {
		return w.loadSigner(ctx, tenantID, domain, now)
	})
	return c.key, c.priv, err
}

// loadSigner reads and parses one domain's key.
func (w *Worker) loadSigner(ctx context.Context, tenantID, domain string, now time.Time) (cachedSigner, error) {
	k, pem, err := w.tenants.DKIMKey(ctx, tenantID, domain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return cachedSigner{loadedAt: now}, nil
	case err != nil:
		return cachedSigner{}, err
	}
	priv, err := dkimsign.ParsePrivateKey(pem)
	if err != nil {
		return cachedSigner{}, err
	}
	if !w.cfg.GoRSA {
		priv = dkimsign.Accelerate(priv)
	}
	return cachedSigner{key: k, priv: priv, loadedAt: now}, nil
}
