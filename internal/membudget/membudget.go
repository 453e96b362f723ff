// Package membudget caps the bytes a process holds for the messages it is working on:
// request bodies being decoded and built, messages being delivered. Memory then
// follows the cap, not the load: work past it waits its turn.
package membudget

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// Budget is a weighted semaphore over bytes. A nil *Budget admits everything.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
}

// New returns a budget of size bytes.
func New(size int64) *Budget {
	return &Budget{sem: semaphore.NewWeighted(size), size: size}
}

// Size is the whole budget.
func (b *Budget) Size() int64 {
	if b == nil {
		return 0
	}
	return b.size
}

// Acquire waits until n bytes are free or ctx ends, and returns the function that
// gives them back. Requests are served in order, so a large one is not starved by a
// stream of small ones. n beyond the whole budget takes the whole budget: it runs
// alone rather than never.
func (b *Budget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	if b == nil || n <= 0 {
		return func() {}, nil
	}
	n = min(n, b.size)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { b.sem.Release(n) }, nil
}
