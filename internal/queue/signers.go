package queue

import (
	"context"
	"crypto"
	"errors"
	"runtime"
	"sync"
	"time"

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

func newSigningSlots(busy func() bool) *signingSlots {
	n := runtime.GOMAXPROCS(0)
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
}

type cachedSigner struct {
	key      *store.DKIMKey // nil: the domain has no key
	priv     crypto.Signer
	loadedAt time.Time
}

// signer returns the tenant's DKIM key for domain and its parsed private key; a nil
// key means the domain signs nothing.
func (w *Worker) signer(ctx context.Context, tenantID, domain string) (*store.DKIMKey, crypto.Signer, error) {
	id := tenantID + "\x00" + domain
	now := w.now()
	w.signers.mu.Lock()
	c, ok := w.signers.m[id]
	w.signers.mu.Unlock()
	if ok && now.Sub(c.loadedAt) < signerTTL {
		return c.key, c.priv, nil
	}
	k, pem, err := w.tenants.DKIMKey(ctx, tenantID, domain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c = cachedSigner{loadedAt: now}
	case err != nil:
		return nil, nil, err
	default:
		priv, err := dkimsign.ParsePrivateKey(pem)
		if err != nil {
			return nil, nil, err
		}
		if !w.cfg.GoRSA {
			priv = dkimsign.Accelerate(priv)
		}
		c = cachedSigner{key: k, priv: priv, loadedAt: now}
	}
	w.signers.mu.Lock()
	if w.signers.m == nil || len(w.signers.m) > 10000 {
		w.signers.m = map[string]cachedSigner{}
	}
	w.signers.m[id] = c
	w.signers.mu.Unlock()
	return c.key, c.priv, nil
}
