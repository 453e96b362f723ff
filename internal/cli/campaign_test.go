package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The campaign verbs: every problem of a spec with its path; a draft; approval by the
// user who created it refused; pause refused for a draft; conversions counted once.
func TestCampaignCommands(t *testing.T) {
	cfg := writeConfig(t)
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
	mustRun("domain", "add", "--tenant", "clinic", "--verified", "clinic.example")
	list := strings.TrimSpace(mustRun("list", "create", "--tenant", "clinic", "News"))
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"name": "x", "from": "a@other.example", "text": "{{nope}}", "throttle_per_hour": -5}`), 0o600)
	code, _, errOut := run(t, "campaign", "create", "--tenant", "clinic", bad, "--config", cfg)
	for _, want := range []string{"from: domain is not a verified", "subject: is required", "text.{{nope}}", "lists:", "throttle_per_hour"} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("bad spec: %d, %q lacks %q", code, errOut, want)
		}
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"name": "Flu", "from": "news@clinic.example", "subject": "Flu shots", "text": "Book now", "lists": ["`+list+`"],
		"schedule": {"send_at": "2027-01-05T09:00", "time_zone": "America/Chicago"}}`), 0o600)
	id := strings.TrimSpace(mustRun("campaign", "create", "--tenant", "clinic", good))
	if out := mustRun("campaign", "list", "--tenant", "clinic"); !strings.Contains(out, id) || !strings.Contains(out, "draft") {
		t.Fatalf("list: %q", out)
	}
	code, _, errOut = run(t, "campaign", "approve", "--tenant", "clinic", id, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "approved by another person") {
		t.Fatalf("approval by the creator: %d %q", code, errOut)
	}
	code, _, errOut = run(t, "campaign", "pause", "--tenant", "clinic", id, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "a draft campaign cannot be paused") {
		t.Fatalf("pause a draft: %d %q", code, errOut)
	}
	mustRun("campaign", "conversion", "--tenant", "clinic", id, "--value", "1200", "--key", "o-1")
	if out := mustRun("campaign", "conversion", "--tenant", "clinic", id, "--value", "1200", "--key", "o-1"); !strings.Contains(out, "already recorded") {
		t.Fatalf("repeated conversion: %q", out)
	}
	if out := mustRun("campaign", "report", "--tenant", "clinic", id); !strings.Contains(out, `"conversions": 1`) || !strings.Contains(out, `"conversion_value": 1200`) {
		t.Fatalf("report: %q", out)
	}
	if out := mustRun("campaign", "cancel", "--tenant", "clinic", id); strings.TrimSpace(out) != "cancelled" {
		t.Fatalf("cancel: %q", out)
	}
}
