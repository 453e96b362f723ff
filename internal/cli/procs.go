package cli

import (
	"os"
	"runtime"
)

// defaultProcs is GOMAXPROCS as the runtime chose it at start: the CPUs this
// process may use, cgroup limits included.
var defaultProcs = runtime.GOMAXPROCS(0)

// serverProcs gives a process that runs the server twice as many Ps as CPUs, unless
// the operator set GOMAXPROCS, which always wins; it returns the value in effect.
//
// With one P a CPU, a goroutine that returns from a blocking system call — SQLite's
// page writes and fsyncs on the single writer, the accept log's fsync — finds every
// P taken by CPU-bound work (RSA signatures above all) and waits in the run queue
// for one, up to a scheduling time slice, while every write in the process waits
// behind it. With spare Ps it runs as soon as the kernel gives its thread a CPU,
// which the kernel does promptly for a thread that slept. Measured on two CPUs
// (bench, closed loop, alternated): delivered/s +15 % with 3 Ps, +19 % with 4, no
// further gain with 6 or 8, and CPU a message 2.6 -> 2.45 ms, the commits being
// fuller; PostgreSQL, whose client waits in the network poller, +3-7 % for about 5 %
// more of our CPU a message.
func serverProcs() int {
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(2 * defaultProcs)
	}
	return runtime.GOMAXPROCS(0)
}
