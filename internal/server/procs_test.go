package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestServeRunsTwoPsACPU: a server process schedules goroutines on twice as many Ps
// as it has CPUs, and says so at start; GOMAXPROCS set by the operator wins. The same
// line names what makes RSA signatures: what this build loads, unless the operator
// asks for Go.
func TestServeRunsTwoPsACPU(t *testing.T) {
	t.Parallel()
	p := newProcEnv(t, storetest.SQLiteURL(t))
	var engine string
	scheduler := func(name string) (procs, cpus float64) {
		t.Helper()
		log, err := os.ReadFile(filepath.Join(p.dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(log), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "scheduler" {
				procs, _ = rec["gomaxprocs"].(float64)
				cpus, _ = rec["cpus"].(float64)
				engine, _ = rec["rsa"].(string)
				return procs, cpus
			}
		}
		t.Fatalf("%s logged no scheduler line:\n%s", name, log)
		return 0, 0
	}
	environ := p.environ
	p.environ = nil
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			p.environ = append(p.environ, kv)
		}
	}
	cmd, _ := p.start("default")
	if procs, cpus := scheduler("default"); cpus < 1 || procs != 2*cpus {
		t.Errorf("with GOMAXPROCS unset: %v Ps for %v CPUs, want twice as many", procs, cpus)
	}
	if want := dkimsign.RSAEngine(); engine != want {
		t.Errorf("rsa engine %q, want %q (this build's)", engine, want)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	p.environ = append(p.environ, "GOMAXPROCS=1", "SEALPOST_DELIVERY_RSA_ENGINE=go")
	p.start("operator")
	if procs, _ := scheduler("operator"); procs != 1 {
		t.Errorf("with GOMAXPROCS=1: %v Ps", procs)
	}
	if engine != "go" {
		t.Errorf("with SEALPOST_DELIVERY_RSA_ENGINE=go: rsa engine %q", engine)
	}
}
