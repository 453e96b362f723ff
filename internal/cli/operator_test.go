package cli

import (
	"strings"
	"testing"
)

// TestOperatorInvite makes an instance operator from the command line: the link is
// printed, the operator belongs to no tenant (not in the tenant's list, nor is their
// scope listed as a tenant), and --operator refuses tenant-bound flags.
func TestOperatorInvite(t *testing.T) {
	cfg := setupTenant(t)
	code, out, errOut := run(t, "user", "invite", "--operator", "--email", "Ops@Sealpost.example", "--config", cfg)
	if code != 0 || !strings.Contains(out, "/app/invite/") || !strings.Contains(errOut, "Operator invited") {
		t.Fatalf("invite: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "user", "invite", "--operator", "--email", "ops@sealpost.example", "--config", cfg); code != 1 || !strings.Contains(errOut, "already has an account") {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "user", "invite", "--operator", "--tenant", "lab", "--email", "x@sealpost.example", "--config", cfg); code != 1 || !strings.Contains(errOut, "no --tenant") {
		t.Fatalf("--operator with --tenant: %d %q", code, errOut)
	}
	if _, out, _ := run(t, "user", "list", "--tenant", "lab", "--config", cfg); strings.Contains(out, "ops@sealpost.example") {
		t.Fatalf("the tenant lists the operator: %q", out)
	}
	if _, out, _ := run(t, "user", "list", "--tenant", "_instance", "--config", cfg); !strings.Contains(out, "ops@sealpost.example") || !strings.Contains(out, "operator") {
		t.Fatalf("operators: %q", out)
	}
	if _, out, _ := run(t, "tenant", "list", "--config", cfg); strings.Contains(out, "_instance") || !strings.Contains(out, "lab") {
		t.Fatalf("tenant list: %q", out)
	}
}
