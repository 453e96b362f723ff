package membudget

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	b := New(100)
	r1, err := b.Acquire(context.Background(), 60)
	if err != nil {
		t.Fatal(err)
	}
	// 60 of 100 held: 50 more must wait, and give up when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Acquire(ctx, 50); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("over budget: %v, want a deadline error", err)
	}
	got := make(chan struct{})
	go func() {
		r2, err := b.Acquire(context.Background(), 50)
		if err == nil {
			r2()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("acquired past the budget")
	case <-time.After(50 * time.Millisecond):
	}
	r1()
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		t.Fatal("release did not admit the waiting request")
	}
	// More than the whole budget runs alone instead of never.
	r3, err := b.Acquire(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := b.Acquire(ctx2, 1); err == nil {
		t.Fatal("an oversize request left room for others")
	}
	r3()
	var nilBudget *Budget
	if r, err := nilBudget.Acquire(context.Background(), 1<<40); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
}

// TestWatch: the watcher hears each crossing of the mark once, in order, whoever
// crosses it (a taker or a releaser), and nothing while the bytes stay on one side.
func TestWatch(t *testing.T) {
	b := New(100)
	var got []bool
	b.Watch(50, func(above bool) { got = append(got, above) })
	ctx := context.Background()
	r1, _ := b.Acquire(ctx, 30) // 30: below
	r2, _ := b.Acquire(ctx, 20) // 50: reaches the mark
	r3, _ := b.Acquire(ctx, 10) // 60: still above
	r2()                        // 40: below again
	r3()                        // 30
	r4, _ := b.Acquire(ctx, 70) // 100: above
	r4()                        // 30: below
	r1()
	want := []bool{true, false, true, false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("watcher heard %v, want %v", got, want)
	}

	// Concurrent crossings end with the watcher told the state that holds.
	var last atomic.Bool
	c := New(1 << 20)
	c.Watch(1000, func(above bool) { last.Store(above) })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				r, _ := c.Acquire(ctx, int64(600+i))
				r()
			}
		}()
	}
	wg.Wait()
	if last.Load() {
		t.Error("nothing held, but the watcher was last told the mark is reached")
	}
}
