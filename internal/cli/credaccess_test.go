package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestCredentialAccessFlags: --allow-network and the rate flags reach the stored key and
// client, list shows them, and a bad network is refused by the service's own check.
func TestCredentialAccessFlags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "sealpost.toml")
		os.WriteFile(cfg, []byte("data_dir = \""+dir+"\"\ndatabase_url = \""+dbURL+"\"\n"), 0o600)
		for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "stmarys"},
			{"key", "create", "--tenant", "stmarys", "--allow-network", "10.20.0.0/16", "--allow-network", "2001:db8::/32", "--rate-per-second", "5", "--rate-burst", "20"},
			{"oauth-client", "create", "--tenant", "stmarys", "--scopes", "send", "--allow-network", "192.0.2.0/24,198.51.100.7"}} {
			if code, _, errOut := run(t, append(s, "--config", cfg)...); code != 0 {
				t.Fatalf("%v: %s", s, errOut)
			}
		}
		if _, out, _ := run(t, "key", "list", "--tenant", "stmarys", "--config", cfg); !strings.Contains(out, "10.20.0.0/16,2001:db8::/32") || !strings.Contains(out, "5/s burst 20") {
			t.Fatalf("key list: %q", out)
		}
		if _, out, _ := run(t, "oauth-client", "list", "--tenant", "stmarys", "--config", cfg); !strings.Contains(out, "192.0.2.0/24,198.51.100.7/32") || !strings.Contains(out, "default") {
			t.Fatalf("oauth-client list: %q", out)
		}
		if code, _, errOut := run(t, "key", "create", "--tenant", "stmarys", "--allow-network", "10.0.0.0/40", "--config", cfg); code != 1 || !strings.Contains(errOut, "allowed_networks[0]") {
			t.Fatalf("bad network: %d %q", code, errOut)
		}
	})
}
