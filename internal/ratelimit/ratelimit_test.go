package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

// TestAllOrNothing: a request refused by one bucket takes nothing from the other.
func TestAllOrNothing(t *testing.T) {
	cred := New(Policy{Name: "credential", Rate: 1, Burst: 2})
	ten := New(Policy{Name: "tenant", Rate: 1, Burst: 1})
	now := time.Unix(1000, 0)
	if _, ok := Take(now, Check{cred, "a"}, Check{ten, "t"}); !ok {
		t.Fatal("first request refused")
	}
	states, ok := Take(now, Check{cred, "a"}, Check{ten, "t"})
	if ok {
		t.Fatal("tenant bucket empty, yet allowed")
	}
	if states[0].Remaining != 1 {
		t.Fatalf("refused request spent the credential's token: %+v", states[0])
	}
	p, l, retry := Headers(states)
	if p != `"credential";q=2;w=2, "tenant";q=1;w=1` || l != `"credential";r=1;t=1, "tenant";r=0;t=1` || retry != "1" {
		t.Fatalf("headers %q %q %q", p, l, retry)
	}
	// Another key has its own bucket.
	if _, ok := Take(now, Check{cred, "b"}, Check{ten, "u"}); !ok {
		t.Fatal("another key refused")
	}
	// Disabled limiters limit nothing and say nothing.
	if st, ok := Take(now, Check{New(Policy{}), "a"}); !ok || len(st) != 0 {
		t.Fatal("disabled limiter")
	}
}

func BenchmarkTake(b *testing.B) {
	cred := New(Policy{Name: "credential", Rate: 1e9, Burst: 1e9})
	ten := New(Policy{Name: "tenant", Rate: 1e9, Burst: 1e9})
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "key_" + strconv.Itoa(i)
	}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Take(now, Check{cred, keys[i%1000]}, Check{ten, "t"})
	}
}
