package queue

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// While the API is busy one core is left to it; when it is idle every core may sign.
func TestSigningSlots(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var busy atomic.Bool
	busy.Store(true)
	s := newSigningSlots(busy.Load)
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
