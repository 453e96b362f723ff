package server

import (
	"runtime"
	"runtime/debug"
)

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

// CPUs is GOMAXPROCS as the runtime chose it at start: the CPUs this process may
// use, cgroup limits included.
var CPUs = runtime.GOMAXPROCS(0)

// spareProcs follows the memory budget's crossings of lazyGCMark with the number of
// Ps (Options.SpareProcs): twice the CPUs while little is in flight, one a CPU while
// large messages are.
//
// With one P a CPU, a goroutine that returns from a blocking system call — SQLite's
// page writes and fsyncs on the single writer, the accept log's fsync — finds every
// P taken by CPU-bound work (RSA signatures above all) and waits in the run queue
// for one, while every write in the process waits behind it; an execution trace of
// an open-loop run showed the committer runnable but not running for about a fifth
// of the run. With spare Ps the kernel, which wakes a thread that slept promptly,
// runs it. Two CPUs, bench, closed loop, alternated: SQLite delivered/s +15 % with 3
// Ps and +19 % with 4 (no more with 6 or 8), CPU a message 2.6 -> 2.45 ms;
// PostgreSQL, whose client waits in the network poller, +3-7 % for about 5 % more of
// our CPU. But with a 40 MiB message in flight the extra Ps raised the delivering
// process's peak by 15-25 MiB, past the bound on peak memory (twice the message plus
// 64 MiB above idle): so while the budget holds lazyGCMark or more, one P a CPU.
func spareProcs(above bool) {
	if above {
		runtime.GOMAXPROCS(CPUs)
	} else {
		runtime.GOMAXPROCS(2 * CPUs)
	}
}
