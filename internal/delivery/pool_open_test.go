package delivery

import (
	"context"
	"errors"
	"testing"
	"time"
)

// takeAsync runs pool.take in the background.
func takeAsync(ctx context.Context, p *pool, key string) chan takeResult {
	ch := make(chan takeResult, 1)
	go func() {
		cn, release, err := p.take(ctx, key, true)
		ch <- takeResult{cn, release, err}
	}()
	return ch
}

type takeResult struct {
	cn      *conn
	release func()
	err     error
}

func waitTake(t *testing.T, ch chan takeResult, what string) takeResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still waiting", what)
		return takeResult{}
	}
}

func notYet(t *testing.T, ch chan takeResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s: returned at once (%+v)", what, r)
	case <-time.After(50 * time.Millisecond):
	}
}

// A burst of deliveries to one host opens at most maxOpening connections at a time;
// the others take a connection that comes back idle, or the next free slot.
func TestPoolBoundsOpening(t *testing.T) {
	p := newPool(8, time.Hour)
	ctx := context.Background()
	var slots []func()
	for i := range maxOpening {
		cn, release, err := p.take(ctx, "mx:25", true)
		if cn != nil || release == nil || err != nil {
			t.Fatalf("take %d: conn %v, slot %t, %v", i, cn, release != nil, err)
		}
		slots = append(slots, release)
	}
	// Another host is not held back by this one.
	if _, release, _ := p.take(ctx, "other:25", true); release == nil {
		t.Fatal("another host had to wait")
	} else {
		release()
	}

	waiting := takeAsync(ctx, p, "mx:25")
	notYet(t, waiting, "a fifth opening")
	// A connection comes back idle: the waiting delivery takes it.
	idle := &conn{key: "mx:25"}
	p.put(idle)
	if r := waitTake(t, waiting, "waiting for an idle connection"); r.cn != idle || r.release != nil {
		t.Fatalf("got %+v, want the idle connection", r)
	}

	waiting = takeAsync(ctx, p, "mx:25")
	notYet(t, waiting, "a fifth opening")
	// An opening ends: its slot goes to the waiting delivery. Ending it twice frees
	// one slot only.
	slots[0]()
	slots[0]()
	r := waitTake(t, waiting, "waiting for a slot")
	if r.cn != nil || r.release == nil {
		t.Fatalf("got %+v, want a slot", r)
	}
	slots[0] = r.release
	notYet(t, takeAsync(ctx, p, "mx:25"), "a fifth opening after a doubly ended one")

	// A delivery that found the idle connections unfit skips them, and waits for a slot.
	p.put(&conn{key: "mx:25"})
	unfit := make(chan takeResult, 1)
	go func() {
		cn, release, err := p.take(ctx, "mx:25", false)
		unfit <- takeResult{cn, release, err}
	}()
	notYet(t, unfit, "a delivery skipping idle connections, with every slot taken")
	for _, release := range slots {
		release()
	}
	if r := waitTake(t, unfit, "skipping idle connections"); r.cn != nil || r.release == nil {
		t.Fatalf("got %+v, want a slot", r)
	}
}

// A host slow to accept holds the others back for openWait at most; a delivery whose
// context ends stops waiting.
func TestPoolOpeningWaitIsBounded(t *testing.T) {
	defer func(d time.Duration) { openWait = d }(openWait)
	openWait = 100 * time.Millisecond
	p := newPool(8, time.Hour)
	for range maxOpening {
		if _, release, _ := p.take(context.Background(), "slow:25", true); release == nil {
			t.Fatal("no slot")
		}
	}
	start := time.Now()
	r := waitTake(t, takeAsync(context.Background(), p, "slow:25"), "past openWait")
	if r.release == nil || time.Since(start) < openWait {
		t.Fatalf("got %+v after %v", r, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	openWait = time.Hour
	ch := takeAsync(ctx, p, "slow:25")
	notYet(t, ch, "with every slot taken")
	cancel()
	if r := waitTake(t, ch, "a cancelled wait"); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("got %+v, want the context's error", r)
	}
}
