package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestOAuthClientCommands: create prints a client whose secret authenticates; list
// shows it without the secret; revoke ends it.
func TestOAuthClientCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "sealpost.toml")
		os.WriteFile(cfg, []byte("data_dir = \""+dir+"\"\ndatabase_url = \""+dbURL+"\"\n"), 0o600)
		for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "stmarys"}} {
			if code, _, errOut := run(t, append(s, "--config", cfg)...); code != 0 {
				t.Fatalf("%v: %s", s, errOut)
			}
		}
		code, out, errOut := run(t, "oauth-client", "create", "--tenant", "stmarys", "--scopes", "send", "--token-format", "jwt", "--config", cfg)
		if code != 0 {
			t.Fatalf("create: %d %s", code, errOut)
		}
		var id, secret string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "client_id":
				id = v
			case "client_secret":
				secret = v
			}
		}
		c, _ := config.Load(cfg, nil)
		ring, _ := server.LoadKeyring(c)
		db, err := server.OpenDB(context.Background(), c, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc := server.OAuthService(c, db, ring, tenant.New(db, ring))
		if _, err := svc.AuthenticateSecret(context.Background(), id, secret); err != nil {
			t.Fatalf("printed credentials do not authenticate: %v", err)
		}
		if _, out, _ := run(t, "oauth-client", "list", "--tenant", "stmarys", "--config", cfg); !strings.Contains(out, id) || !strings.Contains(out, "live") || strings.Contains(out, secret) {
			t.Fatalf("list: %q", out)
		}
		if code, _, errOut := run(t, "oauth-client", "create", "--tenant", "stmarys", "--scopes", "launch", "--config", cfg); code != 1 || !strings.Contains(errOut, "unknown scope") {
			t.Fatalf("bad scope: %d %q", code, errOut)
		}
		// Sessions: one made in the store as a signed request would, then revoked by the CLI.
		code, out, errOut = run(t, "oauth-client", "signature-key", "--tenant", "stmarys", "--alg", "hmac-sha256", id, "--config", cfg)
		if code != 0 || !strings.Contains(out, "keyid=sk_") || !strings.Contains(out, "secret=") {
			t.Fatalf("signature-key: %d %q %q", code, out, errOut)
		}
		for _, sid := range []string{"ses_a", "ses_b"} {
			if err := db.CreateAccessSession(context.Background(), &store.AccessSession{ID: sid, ClientID: id, TenantID: c2tenant(t, db), KeyID: "sk_x",
				CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if code, out, errOut := run(t, "session", "revoke", "ses_a", "--config", cfg); code != 0 || !strings.Contains(out, "revoked") {
			t.Fatalf("session revoke: %d %q %q", code, out, errOut)
		}
		if code, out, _ := run(t, "session", "revoke-client", id, "--config", cfg); code != 0 || !strings.Contains(out, "1 sessions") {
			t.Fatalf("session revoke-client: %d %q", code, out)
		}
		if _, out, _ := run(t, "session", "list", "--tenant", "stmarys", "--config", cfg); strings.Count(out, "revoked") != 2 {
			t.Fatalf("session list: %q", out)
		}
		if code, _, errOut := run(t, "oauth-client", "revoke", id, "--config", cfg); code != 0 {
			t.Fatalf("revoke: %s", errOut)
		}
		if _, err := svc.AuthenticateSecret(context.Background(), id, secret); err == nil {
			t.Fatal("revoked client still authenticates")
		}
		if _, out, _ := run(t, "oauth-client", "list", "--config", cfg); !strings.Contains(out, "revoked") {
			t.Fatalf("list after revoke: %q", out)
		}
	})
}

func c2tenant(t *testing.T, db *store.DB) string {
	t.Helper()
	ts, err := db.Tenants(context.Background())
	if err != nil || len(ts) != 1 {
		t.Fatalf("tenants: %v %v", ts, err)
	}
	return ts[0].ID
}
