package cli

import "os"

// lazyGC reports whether the server may choose the garbage collector's target
// (server.Options.LazyGC): only when the operator did not set GOGC, which always wins.
func lazyGC() bool {
	_, set := os.LookupEnv("GOGC")
	return !set
}

// spareProcs reports whether the server may choose the number of Ps
// (server.Options.SpareProcs): only when the operator did not set GOMAXPROCS.
func spareProcs() bool {
	_, set := os.LookupEnv("GOMAXPROCS")
	return !set
}
