package server

import "runtime/debug"

// The garbage collector's targets for a server whose operator left GOGC alone
// (Options.LazyGC). A small message's allocations — about 300 KB, the body and its
// sealed and signed copies — are garbage by the time it is delivered, and at Go's
// default of 100 the collector took about 7 % of the secure path's CPU; at 200 it
// runs half as often (bench, five alternating pairs: 2.21 → 2.15 ms of CPU a
// message, 82 → 93 MiB peak). But 200 lets the heap grow to three times what is
// live, and with large messages in flight that would break the bound on peak memory
// (twice the message plus 64 MiB above idle): while the memory budget holds
// lazyGCMark or more, the collector runs at 100 again.
const (
	lazyGCPercent = 200
	lazyGCMark    = 16 << 20
)

// lazyGC follows the memory budget's crossings of lazyGCMark.
func lazyGC(above bool) {
	if above {
		debug.SetGCPercent(100)
	} else {
		debug.SetGCPercent(lazyGCPercent)
	}
}
