package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The marketing verbs end to end on the embedded database: schema, import with a
// report naming bad cells, export, a segment, consent and suppression.
func TestMarketingCommands(t *testing.T) {
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
	mustRun("contact", "field-add", "--tenant", "clinic", "--filterable", "plan", "string")
	mustRun("contact", "field-add", "--tenant", "clinic", "score", "number")
	csvPath := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(csvPath, []byte("email,plan,score\na@example.org,gold,5\nbad,silver,x\nb@example.org,silver,7\n"), 0o600)
	code, out, errOut := run(t, "contact", "import", "--tenant", "clinic", csvPath, "--config", cfg)
	if code == 0 || !strings.Contains(out, "row 3\temail") || !strings.Contains(out, "row 3\tscore") || !strings.Contains(errOut, "2 stored") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if out := mustRun("contact", "export", "--tenant", "clinic"); !strings.Contains(out, "a@example.org,gold,5") {
		t.Fatalf("export: %q", out)
	}
	code, _, errOut = run(t, "segment", "preview", "--tenant", "clinic", `{"field": "plan", "op": "eq", "value": "gold"}`, "--config", cfg)
	if code != 0 || !strings.Contains(errOut, "1 contacts") {
		t.Fatalf("preview: %d %q", code, errOut)
	}
	code, _, errOut = run(t, "segment", "preview", "--tenant", "clinic", `{"field": "score", "op": "gt", "value": 1}`, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "filter.field: is not filterable") {
		t.Fatalf("preview of a field that is not filterable: %d %q", code, errOut)
	}
	id := strings.TrimSpace(mustRun("consent", "record", "--tenant", "clinic", "a@example.org", "--kind", "email_opt_in", "--purposes", "news", "--via", "web_form"))
	mustRun("consent", "revoke", "--tenant", "clinic", id, "--via", "phone")
	if out := mustRun("consent", "show", "--tenant", "clinic"); !strings.Contains(out, `"state": "revoked"`) {
		t.Fatalf("consent show: %q", out)
	}
	mustRun("suppression", "add", "--tenant", "clinic", "b@example.org", "--reason", "complaint")
	if out := mustRun("suppression", "show", "--tenant", "clinic"); !strings.Contains(out, "b@example.org") || !strings.Contains(out, "complaint") {
		t.Fatalf("suppression show: %q", out)
	}
	mustRun("suppression", "remove", "--tenant", "clinic", "b@example.org")
	if out := mustRun("suppression", "show", "--tenant", "clinic"); strings.Contains(out, "b@example.org") {
		t.Fatalf("still listed: %q", out)
	}
	if out := mustRun("suppression", "sunset", "--tenant", "clinic"); !strings.Contains(out, "off") {
		t.Fatalf("sunset default: %q", out)
	}
	if out := mustRun("suppression", "sunset", "--tenant", "clinic", "--days", "180", "--sweep"); !strings.Contains(out, "180 days") || !strings.Contains(out, "suppressed: 0") {
		t.Fatalf("sunset set: %q", out)
	}
	if code, _, errOut := run(t, "suppression", "sunset", "--tenant", "clinic", "--days", "5000", "--config", cfg); code == 0 || !strings.Contains(errOut, "days") {
		t.Fatalf("sunset out of range: %d %q", code, errOut)
	}
}
