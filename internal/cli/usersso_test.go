package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserSSOCommands sets a tenant's provider (every bad field reported at once),
// shows it with the redirect URL to register, and removes it.
func TestUserSSOCommands(t *testing.T) {
	cfg := setupTenant(t)
	code, _, errOut := run(t, "user", "sso", "set", "--tenant", "lab", "--issuer", "http://idp.example", "--domain", "lab", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "https") || !strings.Contains(errOut, "client_id") || !strings.Contains(errOut, "client_secret") || !strings.Contains(errOut, "email_domain") {
		t.Fatalf("bad settings: %d %q", code, errOut)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "user", "sso", "set", "--tenant", "lab", "--issuer", "https://accounts.google.com", "--client-id", "abc.apps.googleusercontent.com",
		"--client-secret-file", secret, "--domain", "Lab.example", "--config", cfg)
	if code != 0 || !strings.Contains(out, "/app/sso/callback") {
		t.Fatalf("set: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "user", "sso", "show", "--tenant", "lab", "--config", cfg)
	if code != 0 || !strings.Contains(out, "accounts.google.com") || !strings.Contains(out, "lab.example") || strings.Contains(out, "s3cret") {
		t.Fatalf("show: %q", out)
	}
	if code, out, errOut := run(t, "user", "sso", "remove", "--tenant", "lab", "--config", cfg); code != 0 || !strings.Contains(out, "off") {
		t.Fatalf("remove: %q %q", out, errOut)
	}
}
