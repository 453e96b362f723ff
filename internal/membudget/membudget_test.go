package membudget

import (
	"context"
	"errors"
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
