package delivery

import (
	"context"
	"net"
	"sync"
	"time"
)

// mxCache keeps recent MX answers per domain for Config.MXCacheTTL.
type mxCache struct {
	mu sync.Mutex
	m  map[string]mxEntry
}

type mxEntry struct {
	mxs []*net.MX // read only once cached
	at  time.Time
}

// lookupMX asks for domain's MX records, or answers from the cache. The cached
// slice is shared: callers build their targets from it and never change it.
func (c *Client) lookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	ttl := c.cfg.MXCacheTTL
	if ttl <= 0 {
		// A rooted name stops the resolver from trying search domains.
		return c.resolver.LookupMX(ctx, domain+".")
	}
	now := time.Now()
	c.mx.mu.Lock()
	e, ok := c.mx.m[domain]
	c.mx.mu.Unlock()
	if ok && now.Sub(e.at) < ttl {
		return e.mxs, nil
	}
	mxs, err := c.resolver.LookupMX(ctx, domain+".")
	if err != nil || len(mxs) == 0 {
		// Partial answers and failures are not kept: the next delivery asks again.
		return mxs, err
	}
	c.mx.mu.Lock()
	if c.mx.m == nil || len(c.mx.m) >= 10000 {
		c.mx.m = map[string]mxEntry{}
	}
	c.mx.m[domain] = mxEntry{mxs: mxs, at: now}
	c.mx.mu.Unlock()
	return mxs, nil
}
