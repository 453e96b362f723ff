package tenant

import (
	"testing"
	"time"
)

// TestAuthCacheRevokedDuringLookup: a key read from the database before a revocation,
// whose lookup finishes after it, is not cached — else this process would honour the
// revoked key for another authCacheTTL. A lookup begun after the revocation caches as
// usual.
func TestAuthCacheRevokedDuringLookup(t *testing.T) {
	c := authCache{m: map[string]authEntry{}}
	now := time.Now()
	p := &Principal{KeyID: "key_1", TenantID: "ten_1"}
	_, ok, gen := c.get("h", now) // a lookup misses and goes to the database
	if ok {
		t.Fatal("empty cache hit")
	}
	c.dropKey("key_1") // the key is revoked while it runs
	c.put("h", p, now.Add(authCacheTTL), gen)
	if _, ok, _ := c.get("h", now); ok {
		t.Fatal("a key revoked during its lookup was cached")
	}
	_, _, gen = c.get("h", now)
	c.put("h", p, now.Add(authCacheTTL), gen)
	if got, ok, _ := c.get("h", now); !ok || got != p {
		t.Fatal("a lookup after the revocation was not cached")
	}
}
