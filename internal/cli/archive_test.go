package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestArchiveCommands sends through the pipeline, then drives the archive verbs the
// README lists: search, show, hold, retention, export, verify-export and verify.
func TestArchiveCommands(t *testing.T) {
	cfgPath := writeConfig(t)
	for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "lab"}, {"domain", "add", "--tenant", "lab", "--verified", "lab.example"}} {
		if code, _, errOut := run(t, append(s, "--config", cfgPath)...); code != 0 {
			t.Fatalf("%v: %s", s, errOut)
		}
	}
	c, _ := config.Load(cfgPath, nil)
	c.Archive.Journal = true
	ctx := context.Background()
	s, err := server.New(ctx, c, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := s.Tenants.Tenant(ctx, "lab")
	from, _ := message.ParseAddress("a@lab.example")
	to, _ := message.ParseAddress("p@patient.example")
	if _, err := s.Pipeline.Submit(ctx, &pipeline.Submission{Principal: &tenant.Principal{TenantID: tn.ID, Scopes: []string{"send"}},
		Draft: &message.Draft{From: from, To: []message.Address{to}, Subject: "Thyroid panel", Text: "TSH within range."}}); err != nil {
		t.Fatal(err)
	}
	// The worker's index job makes the words searchable.
	if _, err := s.Archive.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	s.DB.Close()

	must := func(want string, args ...string) string {
		t.Helper()
		code, out, errOut := run(t, append(args, "--config", cfgPath)...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("%v: exit %d, %q %q", args, code, out, errOut)
		}
		return out
	}
	out := must("Thyroid panel", "archive", "search", "--tenant", "lab", "--subject", "thyroid")
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if _, out, _ := run(t, "archive", "search", "--tenant", "lab", "--body", "nowhere", "--config", cfgPath); strings.Contains(out, id) {
		t.Fatalf("search for an absent word found %s", id)
	}
	must("TSH within range.", "archive", "show", "--tenant", "lab", id)
	must("placed", "archive", "hold", "--tenant", "lab", "--name", "audit 2026", "--to", "p@patient.example")
	must("audit 2026", "archive", "hold", "--tenant", "lab", "--list")
	must(`"days": 30`, "archive", "retention", "--tenant", "lab", "--set", "30", "--direction", "out")
	must(`"purged": 0`, "archive", "retention", "--tenant", "lab", "--purge")
	bundle := filepath.Join(t.TempDir(), "x.zip")
	must("exported 1 messages", "archive", "export", "--tenant", "lab", "--out", bundle)
	if code, out, _ := run(t, "archive", "verify-export", bundle); code != 0 || !strings.Contains(out, "0 problems") {
		t.Fatalf("verify-export: %d %q", code, out)
	}
	must("1 entries (0 purged), 0 problems", "archive", "verify")
	if code, _, _ := run(t, "archive", "search", "--tenant", "lab", "--direction", "up", "--config", cfgPath); code != 1 {
		t.Fatalf("bad direction: exit %d", code)
	}
}
