package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/bench"
)

func benchCmd(e *env, args []string) error {
	fs := flags(e, "bench", "bench [flags]", `
Starts a sealpost server process (this binary) on loopback with a local receiving
SMTP server and DNS, drives N messages through the API, and reports accepted/s,
delivered/s end to end, accept latency p50/p95/p99, and the server's CPU seconds and
peak memory. Closed loop with --c clients, or open loop with --rate; an open loop also
reports the p99 of the accepts sent after its first --warmup ("steady p99"). The server may
have --c deliveries in flight to the one destination domain (delivery.per_domain,
unless the environment sets SEALPOST_DELIVERY_PER_DOMAIN).
Run several: --db sqlite,postgres://… --dkim rsa,none --tls true,false --webhook false,true;
--repeat N runs the whole set N times, alternating, so compared runs share the machine's state.
--compare postfix runs the machine's Postfix beside each Sealpost run (alternating which
goes first) with the same messages, concurrency (--c per destination for both) and
security: verified STARTTLS into the same kind of receiver with sessions cached and
connections reused, and an OpenDKIM milter signing with RSA-2048; it then prints each configuration's ratios, min / median /
max over the pairs. scripts/postfix-bench.sh installs Postfix and OpenDKIM.`)
	dbs := fs.String("db", "sqlite", "comma-separated: sqlite and/or postgres://… URLs")
	n := fs.Int("n", 5000, "messages")
	c := fs.Int("c", 64, "concurrent clients (closed loop)")
	rate := fs.Float64("rate", 0, "messages per second (open loop); 0 = closed loop")
	size := fs.Int("size", 10240, "body bytes")
	tlsOpt := fs.String("tls", "true", "receiver offers STARTTLS: true, false or true,false")
	dkim := fs.String("dkim", "rsa", "DKIM: rsa, ed25519, none (comma-separated to compare)")
	hook := fs.String("webhook", "false", "subscribe one loopback endpoint to every event: false, true or false,true")
	arch := fs.String("archive", "true", "journal accepted mail into the archive: true, false or true,false (to measure its cost)")
	repeat := fs.Int("repeat", 1, "run the whole set this many times, alternating")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	timeout := durationFlag(fs, "timeout", 5*time.Minute, "how long delivery may take")
	compare := fs.String("compare", "", `"postfix": run Postfix beside each run and print the ratios`)
	cpuProfile := fs.String("cpuprofile", "", "have the server write a CPU profile (pprof) of the run to this file (the last run's, when several)")
	memProfile := fs.String("memprofile", "", "have the server write an allocation profile (pprof) of the run to this file (the last run's, when several)")
	warmup := fs.Duration("warmup", time.Second, "open loop: the start of the run left out of the steady-state accept percentiles (those of the whole run are printed too)")
	latPath := fs.String("latencies", "", "write each accepted request's start (ms into the run) and latency (ms) to this CSV file (the last run's, when several): a stall shows as a run of slow requests")
	tracePath := fs.String("trace", "", "have the server write an execution trace of the run to this file (the last run's, when several); 'go tool trace -pprof=sched FILE' shows where goroutines waited for a core")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *c < 1 || *n < 1 {
		return fmt.Errorf("--c and --n: want at least 1 (got --c %d, --n %d)", *c, *n)
	}
	if *compare != "" && *compare != "postfix" {
		return fmt.Errorf("--compare: only postfix is known, not %q", *compare)
	}
	if *compare != "" && *rate > 0 {
		return fmt.Errorf("--compare measures closed-loop relay rates; drop --rate")
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	var results []*bench.Result
	var pairs []bench.Pair
	for i := range max(*repeat, 1) {
		for _, db := range strings.Split(*dbs, ",") {
			if db == "sqlite" {
				db = ""
			}
			for _, t := range strings.Split(*tlsOpt, ",") {
				for _, d := range strings.Split(*dkim, ",") {
					for _, wh := range strings.Split(*hook, ",") {
						for _, ar := range strings.Split(*arch, ",") {
							o := bench.Options{Binary: bin, DatabaseURL: db, Messages: *n, Clients: *c, Rate: *rate, Size: *size, TLS: t == "true", DKIM: d,
								Timeout: *timeout, CPUProfile: *cpuProfile, MemProfile: *memProfile, Trace: *tracePath, Latencies: *latPath, Warmup: *warmup, Webhook: wh == "true", ArchiveOff: ar == "false"}
							sealpost := func() *bench.Result {
								r, err := bench.Run(context.Background(), o, e.stderr)
								if r != nil {
									results = append(results, r)
								}
								if err != nil {
									fmt.Fprintln(e.stderr, "bench:", err)
									return nil
								}
								return r
							}
							if *compare == "" {
								sealpost()
								continue
							}
							// Alternate which side goes first, so neither always meets
							// the machine as the other left it.
							var p bench.Pair
							if i%2 == 1 {
								p.Postfix = postfixRun(e, o, &results)
								p.Sealpost = sealpost()
							} else {
								p.Sealpost = sealpost()
								p.Postfix = postfixRun(e, o, &results)
							}
							pairs = append(pairs, p)
						}
					}
				}
			}
		}
	}
	if *compare != "" {
		cs := bench.Compare(pairs)
		if *asJSON {
			return bench.WriteJSON(e.stdout, struct {
				Runs       []*bench.Result    `json:"runs"`
				Comparison []bench.Comparison `json:"comparison"`
			}{results, cs})
		}
		if err := bench.WriteTable(e.stdout, results); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout)
		return bench.WriteComparison(e.stdout, cs)
	}
	if *asJSON {
		return bench.WriteJSON(e.stdout, results)
	}
	return bench.WriteTable(e.stdout, results)
}

// postfixRun runs the Postfix side of a pair and keeps its result.
func postfixRun(e *env, o bench.Options, results *[]*bench.Result) *bench.Result {
	r, err := bench.RunPostfix(context.Background(), o, e.stderr)
	if r != nil {
		*results = append(*results, r)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "bench: postfix:", err)
		return nil
	}
	return r
}
