package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setupTenant makes a master key and a tenant "lab" in a fresh data directory.
func setupTenant(t *testing.T) string {
	t.Helper()
	cfg := writeConfig(t)
	for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "lab"}} {
		if code, _, errOut := run(t, append(s, "--config", cfg)...); code != 0 {
			t.Fatalf("%v: %s", s, errOut)
		}
	}
	return cfg
}

// TestPolicySetRefusesWhatTheAPIRefuses: a misspelt condition once became an empty
// condition, stored as a rule that blocked every message.
func TestPolicySetRefusesWhatTheAPIRefuses(t *testing.T) {
	cfg := setupTenant(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rules":[{"if":{"categorys":["card"]},"then":{"action":"block"}}]}`), 0o600)
	code, _, errOut := run(t, "policy", "set", "--tenant", "lab", bad, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, `rules[0].if.categorys: unknown field (did you mean "categories"?)`) {
		t.Fatalf("misspelt policy: exit %d, %q", code, errOut)
	}
	// Every problem at once.
	os.WriteFile(bad, []byte(`{"rules":[{"if":{"categorys":["card"]},"then":{"action":"block"}}],"allow_plain":"yes"}`), 0o600)
	code, _, errOut = run(t, "policy", "set", "--tenant", "lab", bad, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "rules[0].if.categorys: unknown field") || !strings.Contains(errOut, "allow_plain: must be true or false, not a string") {
		t.Fatalf("two problems: exit %d, %q", code, errOut)
	}
	os.WriteFile(bad, []byte(`{"rules":[{"if":{"categories":["ssns"]},"then":{"action":"deliver"}}]}`), 0o600)
	code, _, errOut = run(t, "policy", "set", "--tenant", "lab", bad, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "rules[0].if.categories[0]: unknown category") || !strings.Contains(errOut, "rules[0].then.action: must be") {
		t.Fatalf("two invalid values: exit %d, %q", code, errOut)
	}
	if _, out, _ := run(t, "policy", "show", "--tenant", "lab", "--config", cfg); !strings.Contains(out, `"version": 0`) || !strings.Contains(out, `"rules": []`) {
		t.Fatalf("a refused policy was stored: %s", out)
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"rules":[{"if":{"categories":["card"]},"then":{"action":"block"}}]}`), 0o600)
	if code, out, errOut := run(t, "policy", "set", "--tenant", "lab", good, "--config", cfg); code != 0 || !strings.Contains(out, "policy version 1") {
		t.Fatalf("valid policy: %d %q %q", code, out, errOut)
	}
}

func TestAuditVerifyRefusesAMalformedCheckpointFile(t *testing.T) {
	cfg := setupTenant(t)
	cp := filepath.Join(t.TempDir(), "cp.json")
	os.WriteFile(cp, []byte(`{"seq":1,"sig":"00"}`), 0o600)
	code, _, errOut := run(t, "audit", "verify", "--checkpoint", cp, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "sig: unknown field") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}
