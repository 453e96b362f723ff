package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/anomaly"
)

// `report anomalies` lists what the detector raised; `policy set` takes the tracking
// default and refuses a bad PHI rule by its field.
func TestReportAnomaliesAndTrackingPolicy(t *testing.T) {
	cfgPath := writeConfig(t)
	for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "lab"}} {
		if code, _, errOut := run(t, append(s, "--config", cfgPath)...); code != 0 {
			t.Fatalf("%v: %s", s, errOut)
		}
	}
	c, _ := config.Load(cfgPath, nil)
	ctx := context.Background()
	s, err := server.New(ctx, c, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := s.Tenants.Tenant(ctx, "lab")
	d := anomaly.New(s.DB, s.Tenants, nil, anomaly.Config{}, slog.New(slog.DiscardHandler))
	p := &tenant.Principal{TenantID: tn.ID, KeyID: "key_lab1"}
	d.Observe(ctx, p, "192.0.2.1")
	d.Observe(ctx, p, "198.51.100.1")
	s.DB.Close()

	code, out, errOut := run(t, "report", "anomalies", "--tenant", "lab", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "key_lab1") || !strings.Contains(out, "new_network") || !strings.Contains(out, "198.51.100.0/24") {
		t.Fatalf("table: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "report", "anomalies", "--tenant", "lab", "--format", "json", "--config", cfgPath)
	var res struct{ Anomalies []map[string]any }
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Anomalies) != 1 {
		t.Fatalf("json: %d %q", code, out)
	}

	dir := filepath.Dir(cfgPath)
	bad, good := filepath.Join(dir, "bad.json"), filepath.Join(dir, "good.json")
	os.WriteFile(bad, []byte(`{"tracking": {"opens": true, "with_phi": "yes"}}`), 0o600)
	os.WriteFile(good, []byte(`{"tracking": {"opens": true, "clicks": true}}`), 0o600)
	if code, _, errOut := run(t, "policy", "set", "--tenant", "lab", bad, "--config", cfgPath); code != 1 || !strings.Contains(errOut, "tracking.with_phi") {
		t.Fatalf("bad policy: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "policy", "set", "--tenant", "lab", "--config", cfgPath, good); code != 0 {
		t.Fatalf("good policy: %q", errOut)
	}
	if code, out, _ := run(t, "policy", "show", "--tenant", "lab", "--config", cfgPath); code != 0 || !strings.Contains(out, `"clicks": true`) {
		t.Fatalf("policy show: %q", out)
	}
}
