package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// The journey verbs, on SQLite and PostgreSQL: a bad definition refused with every
// problem named; create, activate, an event reported twice with one key starting
// one run; runs, report, pause and a refused second pause.
func TestJourneyCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "sealpost.toml")
		os.WriteFile(cfg, []byte("data_dir = \""+dir+"\"\ndatabase_url = \""+dbURL+"\"\n"), 0o600)
		mustRun := func(args ...string) string {
			t.Helper()
			code, out, errOut := run(t, append(args, "--config", cfg)...)
			if code != 0 {
				t.Fatalf("%v: %d %s %s", args, code, out, errOut)
			}
			return out
		}
		mustRun("masterkey", "init")
		mustRun("tenant", "create", "clinic")
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte(`{"name": "", "from": "x", "trigger": {}, "steps": [{"id": "a", "type": "wait"}]}`), 0o600)
		code, _, errOut := run(t, "journey", "create", "--tenant", "clinic", bad, "--config", cfg)
		for _, f := range []string{"name:", "from:", "trigger:", "steps[0].duration:"} {
			if code == 0 || !strings.Contains(errOut, f) {
				t.Fatalf("bad definition: %d, no %s in %q", code, f, errOut)
			}
		}
		good := filepath.Join(dir, "good.json")
		os.WriteFile(good, []byte(`{"name": "Refills", "from": "care@clinic.example", "trigger": {"event": "refill_due"},
 "steps": [{"id": "hi", "type": "send", "subject": "Hi", "text": "Hello"}, {"id": "end", "type": "exit"}]}`), 0o600)
		id := strings.TrimSpace(mustRun("journey", "create", "--tenant", "clinic", good))
		if out := mustRun("journey", "list", "--tenant", "clinic"); !strings.Contains(out, id) || !strings.Contains(out, "draft") {
			t.Fatalf("list: %q", out)
		}
		mustRun("journey", "activate", "--tenant", "clinic", id)
		var ct map[string]any
		json.Unmarshal([]byte(mustRun("contact", "put", "--tenant", "clinic", "pat@patient.example")), &ct)
		var first, again map[string]any
		json.Unmarshal([]byte(mustRun("journey", "event", "--tenant", "clinic", "--contact", ct["id"].(string), "--key", "e1", "refill_due")), &first)
		json.Unmarshal([]byte(mustRun("journey", "event", "--tenant", "clinic", "--contact", ct["id"].(string), "--key", "e1", "refill_due")), &again)
		if first["started"] != true || again["started"] != false {
			t.Fatalf("events: %v / %v", first, again)
		}
		if out := mustRun("journey", "runs", "--tenant", "clinic", id); strings.Count(out, "active") != 1 {
			t.Fatalf("runs: %q", out)
		}
		if out := mustRun("journey", "report", "--tenant", "clinic", id); !strings.Contains(out, "hi") {
			t.Fatalf("report: %q", out)
		}
		mustRun("journey", "pause", "--tenant", "clinic", id)
		if code, _, errOut := run(t, "journey", "pause", "--tenant", "clinic", id, "--config", cfg); code == 0 || !strings.Contains(errOut, "state") {
			t.Fatalf("second pause: %d %q", code, errOut)
		}
		if _, out, errOut := run(t, "journey", "--help"); !strings.Contains(out+errOut, "offset_days") {
			t.Fatalf("help: %q %q", out, errOut)
		}
	})
}
