package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultsNeedNoFile(t *testing.T) {
	t.Parallel()
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") || !strings.HasSuffix(c.MasterKeyFile, "master.key") {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sealpost.toml")
	os.WriteFile(path, []byte("data_dir = \"/srv/sp\"\n[api]\nlisten = \"0.0.0.0:9000\"\n[delivery]\nport = 2525\nretry = [\"1s\", \"2s\"]\n"), 0o600)
	c, err := Load(path, []string{"SEALPOST_DELIVERY_PORT=2626", "SEALPOST_DATABASE_URL=postgres://db/x", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Listen != "0.0.0.0:9000" || c.Delivery.Port != 2626 || c.DatabaseURL != "postgres://db/x" || c.MasterKeyFile != "/srv/sp/master.key" {
		t.Fatalf("got %+v", c)
	}
	if r, _ := c.RetrySchedule(); len(r) != 2 {
		t.Fatalf("retry %v", r)
	}
}

func TestValidationSaysWhatToFix(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"delivery.port":  {"SEALPOST_DELIVERY_PORT=0"},
		"api.listen":     {"SEALPOST_API_LISTEN=nonsense"},
		"delivery.retry": {"SEALPOST_DELIVERY_RETRY=1m,soon"},
		"whole number":   {"SEALPOST_DELIVERY_PORT=x"},
		"unknown environment setting SEALPOST_API_LISTN": {"SEALPOST_API_LISTN=1"},
		"roles": {"SEALPOST_ROLES=api,mailer"},
	}
	for want, env := range cases {
		_, err := Load("", env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want error mentioning %q, got %v", env, want, err)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(path, []byte("[api]\nlistn = \"x\"\n"), 0o600)
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "api.listn") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestConnectionLimitsValidated(t *testing.T) {
	t.Parallel()
	_, err := Load("", []string{"SEALPOST_API_BODY_TIMEOUT=soon", "SEALPOST_API_MIN_RATE=0", "SEALPOST_API_MAX_CONNECTIONS=10",
		"SEALPOST_API_MAX_CLIENT_CONNECTIONS=20", "SEALPOST_API_RESERVED_FDS=3", "SEALPOST_API_MAX_INFLIGHT_BYTES=1024"})
	for _, want := range []string{"api.body_timeout", "api.min_rate", "api.max_client_connections", "api.reserved_fds", "api.max_inflight_bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error naming %s, got %v", want, err)
		}
	}
	c, err := Load("", []string{"SEALPOST_API_READ_HEADER_TIMEOUT=3s", "SEALPOST_API_MAX_CONNECTIONS=500"})
	if err != nil {
		t.Fatal(err)
	}
	if c.API.ReadHeaderTimeout != "3s" || c.API.MaxConnections != 500 || c.API.MaxClientConns != 128 {
		t.Errorf("limits from the environment: %+v", c.API)
	}
}
