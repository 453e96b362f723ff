// Package membudget caps the bytes a process holds for the messages it is working on:
// request bodies being decoded and built, messages being delivered. Memory then
// follows the cap, not the load: work past it waits its turn.
package membudget

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Budget is a weighted semaphore over bytes. A nil *Budget admits everything. One
// budget serves the whole process: request bodies as they arrive (every route) and
// messages under delivery draw on the same bytes.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
	used atomic.Int64

	// Watch's: mark, what to call, and the state it was last told.
	mark  int64
	watch func(above bool)
	wmu   sync.Mutex
	above bool
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
	got, ok := b.Take(ctx, n)
	if !ok {
		return nil, ctx.Err()
	}
	return func() { b.Release(got) }, nil
}

// Take waits until n bytes are free or ctx ends (false), and returns how many it took
// (n, or the whole budget for more): for holders that give bytes back in parts.
func (b *Budget) Take(ctx context.Context, n int64) (int64, bool) {
	if b == nil || n <= 0 {
		return 0, true
	}
	n = min(n, b.size)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return 0, false
	}
	b.crossed(b.used.Add(n), n)
	return n, true
}

// Release gives back n bytes taken with Take.
func (b *Budget) Release(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.crossed(b.used.Add(-n), -n)
	b.sem.Release(n)
}

// Watch has f called with true once the bytes held reach mark, and with false once
// they fall back below it. Calls are serialised, each reports the state at the time
// of the call, and none repeats the last. Set it before the budget is used.
func (b *Budget) Watch(mark int64, f func(above bool)) {
	if b == nil {
		return
	}
	b.mark, b.watch = mark, f
}

// crossed tells the watcher when a change of delta bytes, leaving now held, crossed
// the mark. Concurrent crossings may arrive out of order: whoever gets the lock
// reports what is held then, so the last report is always the current state.
func (b *Budget) crossed(now, delta int64) {
	if b.watch == nil || (now >= b.mark) == (now-delta >= b.mark) {
		return
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if above := b.used.Load() >= b.mark; above != b.above {
		b.above = above
		b.watch(above)
	}
}

// Used is the number of bytes held now.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}
