// Package tlssec decides what transport security a recipient domain's mail
// servers support and require: DNSSEC-authenticated DANE TLSA records
// (RFC 7672), MTA-STS policies (RFC 8461) and a STARTTLS probe of every MX
// host. It knows nothing of tenants or storage; callers supply the
// resolvers, HTTP client, clock and cache.
package tlssec

import (
	"context"
	"sync"
	"time"
)

// Cache stores JSON values until they expire. Get must not return an entry
// whose expiry has passed. Implementations must be safe for concurrent
// use; the server plugs in one backed by its database so that policies
// survive restarts, as RFC 8461 5.1 expects of a policy cache.
type Cache interface {
	Get(ctx context.Context, key string) (val []byte, ok bool)
	Put(ctx context.Context, key string, val []byte, expires time.Time)
}

// MemoryCache is a Cache held in process memory.
type MemoryCache struct {
	now func() time.Time

	mu        sync.Mutex
	entries   map[string]memoryEntry
	lastSweep int // size after the last sweep of expired entries
}

type memoryEntry struct {
	val     []byte
	expires time.Time
}

// NewMemoryCache returns an empty cache reading the time from now
// (nil: time.Now).
func NewMemoryCache(now func() time.Time) *MemoryCache {
	if now == nil {
		now = time.Now
	}
	return &MemoryCache{now: now, entries: make(map[string]memoryEntry)}
}

// Get returns a copy of the value stored under key if it has not expired.
func (c *MemoryCache) Get(_ context.Context, key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return nil, false
	}
	return append([]byte(nil), e.val...), true
}

// Put stores a copy of val under key until expires.
func (c *MemoryCache) Put(_ context.Context, key string, val []byte, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = memoryEntry{val: append([]byte(nil), val...), expires: expires}
	// Entries nobody asks for again would otherwise stay for ever; sweeping
	// each time the map has doubled keeps the cost per Put constant.
	if len(c.entries) >= 2*max(c.lastSweep, 64) {
		now := c.now()
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		c.lastSweep = len(c.entries)
	}
}

// Len returns how many entries are held, expired or not.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

var _ Cache = (*MemoryCache)(nil)
