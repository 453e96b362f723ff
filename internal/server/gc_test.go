package server

import (
	"runtime/debug"
	"testing"

	"github.com/sealpost/sealpost/internal/membudget"
)

// TestLazyGCFollowsTheBudget: with large messages in flight the collector runs at
// Go's default again, and lazily once they are gone.
func TestLazyGCFollowsTheBudget(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	b := membudget.New(1 << 30)
	b.Watch(lazyGCMark, lazyGC)
	debug.SetGCPercent(lazyGCPercent)

	small, _ := b.Take(t.Context(), 1<<20)
	if got := debug.SetGCPercent(lazyGCPercent); got != lazyGCPercent {
		t.Errorf("1 MiB in flight: GOGC %d, want %d", got, lazyGCPercent)
	}
	large, _ := b.Take(t.Context(), 40<<20)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("41 MiB in flight: GOGC %d, want 100", got)
	}
	b.Release(large)
	if got := debug.SetGCPercent(lazyGCPercent); got != lazyGCPercent {
		t.Errorf("back to 1 MiB: GOGC %d, want %d", got, lazyGCPercent)
	}
	b.Release(small)
}
