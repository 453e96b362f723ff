package queue

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// While the API is busy one core is left to it; when it is idle every core may sign.
func TestSigningSlots(t *testing.T) {
	var busy atomic.Bool
	busy.Store(true)
	s := newSigningSlots(4, busy.Load)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var held []func()
	for range 3 {
		r := s.acquire(ctx)
		if r == nil {
			t.Fatal("a core slot was refused")
		}
		held = append(held, r)
	}
	if r := s.acquire(ctx); r != nil {
		t.Fatal("a fourth signature ran while the API was busy")
	}
	busy.Store(false)
	if r := s.acquire(context.Background()); r == nil {
		t.Fatal("the spare core was refused while the API was idle")
	} else {
		held = append(held, r)
	}
	held[0]()
	done := make(chan func(), 1)
	go func() { done <- s.acquire(context.Background()) }()
	select {
	case r := <-done:
		if r == nil {
			t.Fatal("a released slot was not handed on")
		}
	case <-time.After(time.Second):
		t.Fatal("a released slot was not handed on")
	}
}

// Deliveries that miss the signer cache together share one load of the key: a cold
// cache or an expired entry meets every delivery in flight for the domain at once.
func TestSignerCacheLoadsOnce(t *testing.T) {
	var c signerCache
	var loads atomic.Int32
	gate := make(chan struct{})
	load := func(at time.Time) func() (cachedSigner, error) {
		return func() (cachedSigner, error) {
			loads.Add(1)
			<-gate
			return cachedSigner{loadedAt: at}, nil
		}
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := c.get("t\x00d.test", t0, load(t0)); err != nil {
				t.Error(err)
			}
		})
	}
	// Let the misses pile up on the first load before it ends.
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("32 concurrent misses made %d loads, want 1", n)
	}
	// Cached: no load within the TTL.
	if _, err := c.get("t\x00d.test", t0.Add(signerTTL-time.Second), load(t0)); err != nil || loads.Load() != 1 {
		t.Fatalf("a fresh entry was loaded again (%d loads, %v)", loads.Load(), err)
	}
	// Expired: loaded again, once.
	later := t0.Add(signerTTL)
	if e, err := c.get("t\x00d.test", later, load(later)); err != nil || loads.Load() != 2 || !e.loadedAt.Equal(later) {
		t.Fatalf("an expired entry: %d loads, loaded at %v, %v", loads.Load(), e.loadedAt, err)
	}
	// A failed load caches nothing: the next miss tries again.
	fail := func() (cachedSigner, error) { loads.Add(1); return cachedSigner{}, errors.New("database down") }
	if _, err := c.get("t\x00e.test", t0, fail); err == nil {
		t.Fatal("a failed load returned no error")
	}
	if _, err := c.get("t\x00e.test", t0, load(t0)); err != nil || loads.Load() != 4 {
		t.Fatalf("after a failed load: %d loads, %v", loads.Load(), err)
	}
}

// A server runs with spare Ps (twice the CPUs): the slots still leave one of the
// machine's cores to the API, not one of its Ps.
func TestSigningSlotsFollowTheCores(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2 * cpus))
	w := New(nil, nil, nil, nil, Config{}, nil, nil)
	if got, want := cap(w.signing.core), max(1, cpus-1); got != want {
		t.Fatalf("%d signatures at once while the API is busy on %d cores with %d Ps, want %d", got, cpus, runtime.GOMAXPROCS(0), want)
	}
}
