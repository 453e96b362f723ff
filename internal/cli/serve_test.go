package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesUnreachablePortal: with the README's production listener and no
// secure.portal_url, serve stops at once and says what to set.
func TestServeRefusesUnreachablePortal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sealpost.toml")
	conf := "data_dir = \"" + dir + "\"\n[api]\nlisten = \"0.0.0.0:8443\"\ntls_cert = \"/etc/sealpost/api.crt\"\ntls_key = \"/etc/sealpost/api.key\"\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "serve", "--config", path)
	if code != 1 || !strings.Contains(errOut, "secure.portal_url is not set") || !strings.Contains(errOut, "https://0.0.0.0:8443") {
		t.Fatalf("serve: exit %d, stderr %q", code, errOut)
	}
}
