package server

import (
	"runtime"
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

// TestSpareProcsFollowTheBudget: twice as many Ps as CPUs while little is in flight,
// one a CPU while large messages are (their peak memory is bounded).
func TestSpareProcsFollowTheBudget(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	b := membudget.New(1 << 30)
	b.Watch(lazyGCMark, spareProcs)
	spareProcs(false)
	small, _ := b.Take(t.Context(), 1<<20)
	if got := runtime.GOMAXPROCS(0); got != 2*CPUs {
		t.Errorf("1 MiB in flight: %d Ps, want %d", got, 2*CPUs)
	}
	large, _ := b.Take(t.Context(), 40<<20)
	if got := runtime.GOMAXPROCS(0); got != CPUs {
		t.Errorf("41 MiB in flight: %d Ps, want %d", got, CPUs)
	}
	b.Release(large)
	if got := runtime.GOMAXPROCS(0); got != 2*CPUs {
		t.Errorf("back to 1 MiB: %d Ps, want %d", got, 2*CPUs)
	}
	b.Release(small)
}
