package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestEveryProblemAtOnce: unknown keys, values of the wrong type, bad environment
// variables and invalid values are all reported by one Load.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(path, []byte(`roles = "api"
[api]
listn = "0.0.0.0:1"
max_body_bytes = "big"
[delivery]
port = "25"
concurrency = 1.5
retry = "1m"
expire = "soon"
rsa_engine = "fast"
[portl]
code_ttl = "5m"
`), 0o600)
	_, err := Load(path, []string{"SEALPOST_LOG_LEVL=debug", "SEALPOST_PORTAL_MAX_FAILURES=many"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"unknown setting api.listn (did you mean api.listen?)",
		`api.max_body_bytes must be a whole number, not the string "big"`,
		`delivery.port must be a whole number, not the string "25"`,
		"delivery.concurrency must be a whole number, not the number 1.5",
		`delivery.retry must be a list of strings`,
		"unknown setting portl (did you mean portal?)",
		"unknown environment setting SEALPOST_LOG_LEVL",
		`SEALPOST_PORTAL_MAX_FAILURES="many": want a whole number`,
		`delivery.expire "soon": want a duration such as 5d, 120h or 30s`,
		`delivery.rsa_engine "fast": want auto or go`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDurationsInDays(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "days.toml")
	os.WriteFile(path, []byte("[delivery]\nexpire = \"4d\"\nretry = [\"1m\", \"1d\"]\n[secure]\nportal_expiry = \"14d\"\n"), 0o600)
	c, err := Load(path, []string{"SEALPOST_PORTAL_MAX_EXPIRY=60d"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.RetrySchedule()
	if Duration(c.Delivery.Expire) != 96*time.Hour || Duration(c.Secure.PortalExpiry) != 14*24*time.Hour ||
		Duration(c.Portal.MaxExpiry) != 60*24*time.Hour || r[1] != 24*time.Hour {
		t.Fatalf("%+v %v", c, r)
	}
	if _, err := Load(path, []string{"SEALPOST_PORTAL_MAX_EXPIRY=7d"}); err == nil || !strings.Contains(err.Error(), "secure.portal_expiry 14d is longer than portal.max_expiry 7d") {
		t.Fatalf("bounds: %v", err)
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
