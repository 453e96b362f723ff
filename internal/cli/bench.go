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
peak memory. Closed loop with --c clients, or open loop with --rate.
Run several: --db sqlite,postgres://… --dkim rsa,none --tls true,false --webhook false,true;
--repeat N runs the whole set N times, alternating, so compared runs share the machine's state.`)
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
	cpuProfile := fs.String("cpuprofile", "", "have the server write a CPU profile (pprof) of the run to this file (the last run's, when several)")
	if err := parse(fs, args); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	var results []*bench.Result
	for range max(*repeat, 1) {
		for _, db := range strings.Split(*dbs, ",") {
			if db == "sqlite" {
				db = ""
			}
			for _, t := range strings.Split(*tlsOpt, ",") {
				for _, d := range strings.Split(*dkim, ",") {
					for _, wh := range strings.Split(*hook, ",") {
						for _, ar := range strings.Split(*arch, ",") {
							o := bench.Options{Binary: bin, DatabaseURL: db, Messages: *n, Clients: *c, Rate: *rate, Size: *size, TLS: t == "true", DKIM: d,
								Timeout: *timeout, CPUProfile: *cpuProfile, Webhook: wh == "true", ArchiveOff: ar == "false"}
							r, err := bench.Run(context.Background(), o, e.stderr)
							if r != nil {
								results = append(results, r)
							}
							if err != nil {
								fmt.Fprintln(e.stderr, "bench:", err)
							}
						}
					}
				}
			}
		}
	}
	if *asJSON {
		return bench.WriteJSON(e.stdout, results)
	}
	return bench.WriteTable(e.stdout, results)
}
