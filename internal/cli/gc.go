package cli

import (
	"os"
	"runtime/debug"
)

// serverGCPercent is the garbage collector's target for a running server. The secure
// path allocates about 300 KB a message, nearly all of it gone by the time the message
// is delivered (the body, its sealed and signed copies); at Go's default of 100 the
// collector took about 7 % of the server's CPU. At 200 it runs half as often, for
// about a tenth more peak memory under load (bench, 2,000 messages at 64 clients, five
// alternating pairs, medians: 2.21 → 2.15 ms of CPU a message, 82 → 93 MiB). 300
// gained nothing more.
const serverGCPercent = 200

// tuneGC applies serverGCPercent unless the operator set GOGC, which always wins.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}
