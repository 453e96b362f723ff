package cli

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
)

// TestConfigCommand: `config` prints the defaults as a TOML file that loads back to
// the same settings, and with --config the file's values, never its secrets.
func TestConfigCommand(t *testing.T) {
	code, out, errOut := run(t, "config")
	if code != 0 || !strings.Contains(out, `expire = "5d"`) || !strings.Contains(out, "# address of the REST API (SEALPOST_API_LISTEN)\nlisten = ") {
		t.Fatalf("defaults: %d %q\n%s", code, errOut, out)
	}
	path := filepath.Join(t.TempDir(), "printed.toml")
	os.WriteFile(path, []byte(out), 0o600)
	back, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("printed defaults do not load: %v", err)
	}
	def, _ := config.Load("", nil)
	if len(back.Delivery.SendingIPs) == 0 {
		back.Delivery.SendingIPs = nil // "sending_ips = []" is the empty default
	}
	if !reflect.DeepEqual(back, def) {
		t.Fatalf("printed defaults load as\n%+v\nwant\n%+v", back, def)
	}

	os.WriteFile(path, []byte("database_url = \"postgres://sp:hunter2@db/sp\"\n[delivery]\nsmart_host = \"relay.example:587\"\nsmart_host_password = \"s3cret\"\nexpire = \"3d\"\n"), 0o600)
	code, out, errOut = run(t, "config", "--config", path)
	if code != 0 || !strings.Contains(out, `expire = "3d"`) || !strings.Contains(out, `smart_host = "relay.example:587"`) ||
		!strings.Contains(out, "# smart_host_password = (set; not shown)") || strings.Contains(out, "s3cret") || strings.Contains(out, "hunter2") {
		t.Fatalf("--config: %d %q\n%s", code, errOut, out)
	}

	os.WriteFile(path, []byte("[api]\nlistn = \"x\"\n[delivery]\nport = \"25\"\n"), 0o600)
	code, _, errOut = run(t, "config", "--config", path)
	if code != 1 || !strings.Contains(errOut, "api.listn") || !strings.Contains(errOut, "delivery.port must be a whole number") {
		t.Fatalf("bad file: %d %q", code, errOut)
	}
}

func TestDurationFlagsTakeDays(t *testing.T) {
	fs := flags(&env{stdout: io.Discard, stderr: io.Discard}, "x", "x", "")
	d := durationFlag(fs, "timeout", time.Minute, "how long")
	if err := parse(fs, []string{"--timeout", "1d12h"}); err != nil || *d != 36*time.Hour {
		t.Fatalf("got %v, %v", *d, err)
	}
	if err := parse(fs, []string{"--timeout", "soon"}); err == nil {
		t.Fatal("accepted soon")
	}
	cfg := setupTenant(t)
	if code, _, errOut := run(t, "key", "create", "--tenant", "lab", "--expires", "1d12h", "--config", cfg); code != 0 {
		t.Fatalf("key create --expires 1d12h: %s", errOut)
	}
	_, out, _ := run(t, "key", "list", "--tenant", "lab", "--config", cfg)
	want := time.Now().Add(36 * time.Hour).UTC().Format("2006-01-02T15")
	if !strings.Contains(out, want) && !strings.Contains(out, time.Now().Add(36*time.Hour).Format("2006-01-02T15")) {
		t.Fatalf("expiry not 36h away (%s):\n%s", want, out)
	}
}

func TestMalformedMasterKeyIsExplainedPlainly(t *testing.T) {
	cfg := writeConfig(t)
	t.Setenv("SEALPOST_MASTER_KEY", "c2hvcnQ=")
	code, _, errOut := run(t, "tenant", "list", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "master_key: a master key is 32 bytes in standard base64") || strings.Contains(errOut, "seal:") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}
