package tenant

import (
	"testing"
	"time"
)

// TestSenderCache: a verified domain is remembered for senderTTL and covers its
// subdomains; removing any of a tenant's domains forgets them all at once, and a
// lookup begun before the removal is not remembered after it.
func TestSenderCache(t *testing.T) {
	var c senderCache
	now := time.Now()
	ok, gen := c.get("ten_1", "mail.example.com", now)
	if ok {
		t.Fatal("empty cache hit")
	}
	c.put("ten_1", "example.com", now.Add(senderTTL), gen)
	for _, d := range []string{"example.com", "mail.example.com", "a.b.example.com"} {
		if ok, _ := c.get("ten_1", d, now); !ok {
			t.Errorf("%s not covered by a remembered example.com", d)
		}
	}
	for _, q := range []struct{ tenant, domain string }{{"ten_2", "example.com"}, {"ten_1", "example.org"}, {"ten_1", "notexample.com"}} {
		if ok, _ := c.get(q.tenant, q.domain, now); ok {
			t.Errorf("%s of %s allowed by another tenant's or domain's entry", q.domain, q.tenant)
		}
	}
	if ok, _ := c.get("ten_1", "example.com", now.Add(senderTTL)); ok {
		t.Error("remembered past senderTTL")
	}

	_, gen = c.get("ten_1", "example.net", now) // a lookup goes to the database
	c.drop("ten_1")                             // a domain is removed meanwhile
	c.put("ten_1", "example.net", now.Add(senderTTL), gen)
	if ok, _ := c.get("ten_1", "example.net", now); ok {
		t.Error("a domain read before a removal was remembered after it")
	}
	if ok, _ := c.get("ten_1", "example.com", now); ok {
		t.Error("removal left the tenant's domains remembered")
	}
}
