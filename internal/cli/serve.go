package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/server"
)

func serve(e *env, args []string) error {
	fs := flags(e, "serve", "serve [--config FILE]", `
Runs Sealpost: the REST API and the delivery workers (see the roles setting to run a
subset). With no config file it keeps an SQLite database in ./sealpost-data. It needs a
master key: run 'sealpost masterkey init' once, or set SEALPOST_MASTER_KEY.
Stops cleanly on SIGTERM or Ctrl-C: in-flight deliveries finish or are released.`)
	cfgPath := configFlag(fs, e)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file until shutdown")
	memProfile := fs.String("memprofile", "", "write an allocation profile (pprof: what was allocated since start, and what is live) to this file at shutdown")
	tracePath := fs.String("trace", "", "write an execution trace (go tool trace: what each goroutine waited on, and when) to this file until shutdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	log := logger(cfg, e.stderr)
	ctx, stop := signalContext()
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *tracePath != "" {
		f, err := os.Create(*tracePath) // #nosec G304 -- a path the operator names on the command line
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	s, err := server.New(ctx, cfg, server.Options{Logger: log, LazyGC: lazyGC(), SpareProcs: spareProcs()})
	if err != nil {
		return err
	}
	log.Info("scheduler", "gomaxprocs", runtime.GOMAXPROCS(0), "cpus", server.CPUs, "rsa", rsaEngine(cfg))
	err = s.Run(ctx)
	if *memProfile != "" {
		if perr := writeAllocProfile(*memProfile); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

func writeAllocProfile(path string) error {
	f, err := os.Create(path) // #nosec G304 -- a path the operator names on the command line
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func migrate(e *env, args []string) error {
	fs := flags(e, "migrate", "migrate [--config FILE]", "Applies pending database migrations (they also run at start) and exits.")
	cfgPath := configFlag(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	db, err := server.OpenDB(context.Background(), cfg, logger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stdout, "database %s is up to date\n", db.Dialect())
	return nil
}

// rsaEngine names what signs DKIM with RSA keys, for the start log.
func rsaEngine(cfg *config.Config) string {
	if cfg.Delivery.RSAEngine == "go" {
		return "go"
	}
	return dkimsign.RSAEngine()
}
