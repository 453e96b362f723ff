package queue

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Copies with identical bytes share one signature, even when signed at the same
// moment; other bytes, another message, a failed signature or an old one do not.
func TestSignOnce(t *testing.T) {
	var s signOnce
	var calls atomic.Int64
	now := time.Unix(1_800_000_000, 0)
	ctx := context.Background()
	sign := func() (string, bool) {
		n := calls.Add(1)
		time.Sleep(10 * time.Millisecond) // copies arrive while the first signs
		return fmt.Sprint("sig", n), true
	}
	get := func(at time.Time, msg string, data string, fn func() (string, bool)) string {
		sig, ok := s.get(ctx, at, msg, "k1 s._domainkey.d", []byte(data), fn)
		if !ok {
			return "failed"
		}
		return sig
	}

	var wg sync.WaitGroup
	sigs := make([]string, 8)
	for i := range sigs {
		wg.Add(1)
		go func() { defer wg.Done(); sigs[i] = get(now, "m1", "same bytes", sign) }()
	}
	wg.Wait()
	for _, sig := range sigs {
		if sig != sigs[0] {
			t.Fatalf("copies got different signatures: %v", sigs)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d signatures for 8 identical copies", calls.Load())
	}
	if got := get(now, "m1", "rewritten bytes", sign); got == sigs[0] || calls.Load() != 2 {
		t.Errorf("different bytes shared a signature: %q after %d signatures", got, calls.Load())
	}
	if got := get(now, "m2", "same bytes", sign); got == sigs[0] || calls.Load() != 3 {
		t.Errorf("another message shared a signature: %q after %d signatures", got, calls.Load())
	}
	if got := get(now.Add(signOnceTTL), "m1", "same bytes", sign); got == sigs[0] || calls.Load() != 4 {
		t.Errorf("a stale signature was reused: %q after %d signatures", got, calls.Load())
	}

	fail := func() (string, bool) { calls.Add(1); return "", false }
	if got := get(now, "m3", "x", fail); got != "failed" {
		t.Fatalf("failure reported as %q", got)
	}
	if got := get(now, "m3", "x", sign); got == "failed" || calls.Load() != 6 {
		t.Errorf("a failed signature was kept: %q after %d signatures", got, calls.Load())
	}
}
