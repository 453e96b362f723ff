package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// The inbound verbs on both databases: every bad flag named at once, a domain added
// (with the MX record to publish), listed and removed, and a decision on a message
// that does not exist refused clearly.
func TestInboundCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "sealpost.toml")
		os.WriteFile(cfg, []byte("data_dir = \""+dir+"\"\ndatabase_url = \""+dbURL+"\"\nhostname = \"gw.sealpost.example\"\n"), 0o600)
		runCfg := func(args ...string) (int, string, string) { return run(t, append(args, "--config", cfg)...) }
		mustRun := func(args ...string) string {
			t.Helper()
			code, out, errOut := runCfg(args...)
			if code != 0 {
				t.Fatalf("%v: %d %s %s", args, code, out, errOut)
			}
			return out
		}
		mustRun("masterkey", "init")
		mustRun("tenant", "create", "clinic")
		mustRun("domain", "add", "--tenant", "clinic", "clinic.example", "--verified")
		code, _, errOut := runCfg("inbound", "add", "--tenant", "clinic", "--domain", "nodot", "--smart-host", "aspmx", "--dmarc", "bounce")
		for _, want := range []string{"--domain:", "--smart-host:", "--dmarc:"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("bad add: %d %q lacks %s", code, errOut, want)
			}
		}
		out := mustRun("inbound", "add", "--tenant", "clinic", "--domain", "clinic.example", "--smart-host", "aspmx.l.google.com:25", "--dmarc", "reject")
		if !strings.Contains(out, "clinic.example. MX 10 gw.sealpost.example.") {
			t.Errorf("add output %q lacks the MX record", out)
		}
		id := strings.TrimSuffix(strings.Fields(out)[2], ":")
		if out := mustRun("inbound", "domains", "--tenant", "clinic"); !strings.Contains(out, "aspmx.l.google.com:25") || !strings.Contains(out, "reject") {
			t.Errorf("domains: %q", out)
		}
		if code, _, errOut := runCfg("inbound", "release", "--tenant", "clinic", "inm_nothing"); code != 1 || !strings.Contains(errOut, "no such message") {
			t.Errorf("release of nothing: %d %q", code, errOut)
		}
		mustRun("inbound", "list", "--tenant", "clinic", "--status", "quarantined")
		mustRun("inbound", "remove", "--tenant", "clinic", id)
		if out := mustRun("inbound", "domains", "--tenant", "clinic"); strings.Contains(out, "clinic.example") {
			t.Errorf("removed domain still listed: %q", out)
		}
	})
}
