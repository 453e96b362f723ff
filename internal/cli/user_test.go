package cli

import (
	"strings"
	"testing"
)

// TestUserCommands invites people (a printed link, and an emailed invitation queued
// through the pipeline), lists them, disables one and resets another's second factor.
func TestUserCommands(t *testing.T) {
	cfg := setupTenant(t)
	if code, _, errOut := run(t, "domain", "add", "--tenant", "lab", "lab.example", "--verified", "--config", cfg); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := run(t, "user", "invite", "--tenant", "lab", "--email", "Ann@Lab.example", "--role", "owner", "--config", cfg)
	if code != 0 || !strings.Contains(out, "/app/invite/") {
		t.Fatalf("invite: %d %q %q", code, out, errOut)
	}
	id := strings.Fields(errOut)[0]
	code, out, errOut = run(t, "user", "invite", "--tenant", "lab", "--email", "bo@lab.example", "--role", "viewer", "--from", "no-reply@lab.example", "--config", cfg)
	if code != 0 || !strings.Contains(out, "emailed") || strings.Contains(out, "/app/invite/") {
		t.Fatalf("emailed invite: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, "user", "invite", "--tenant", "lab", "--email", "ann@lab.example", "--role", "viewer", "--config", cfg); code != 1 || !strings.Contains(errOut, "already has an account") {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "user", "invite", "--tenant", "lab", "--email", "cy@lab.example", "--role", "boss", "--config", cfg); code != 1 || !strings.Contains(errOut, "role") {
		t.Fatalf("unknown role: %d %q", code, errOut)
	}
	code, out, _ = run(t, "user", "list", "--tenant", "lab", "--config", cfg)
	if code != 0 || !strings.Contains(out, "ann@lab.example") || !strings.Contains(out, "bo@lab.example") || !strings.Contains(out, "invited") {
		t.Fatalf("list: %q", out)
	}
	if code, out, errOut := run(t, "user", "reset-mfa", "--tenant", "lab", id, "--config", cfg); code != 0 || !strings.Contains(out, "cleared") {
		t.Fatalf("reset-mfa: %q %q", out, errOut)
	}
	if code, out, errOut := run(t, "user", "disable", "--tenant", "lab", id, "--config", cfg); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %q %q", out, errOut)
	}
	if code, _, errOut := run(t, "user", "disable", "--tenant", "lab", "usr_nobody", "--config", cfg); code != 1 || !strings.Contains(errOut, "no person") {
		t.Fatalf("unknown person: %q", errOut)
	}
	code, out, _ = run(t, "user", "list", "--tenant", "lab", "--config", cfg)
	if code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable: %q", out)
	}
}
