package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
)

func TestReportCommand(t *testing.T) {
	cfgPath := writeConfig(t)
	for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "lab"}, {"domain", "add", "--tenant", "lab", "--verified", "lab.example"}} {
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
	from, _ := message.ParseAddress("a@lab.example")
	for i, to := range []string{"p@patient.example", "q@patient.example", "r@other.example"} {
		rc, _ := message.ParseAddress(to)
		sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: tn.ID, Scopes: []string{"send"}, Sandbox: i == 2},
			Draft:    &message.Draft{From: from, To: []message.Address{rc}, Subject: "Flu clinic\tdates", Text: "t"},
			Metadata: map[string]string{"clinic": "north"}, Campaign: "flu"}
		if _, err := s.Pipeline.Submit(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	s.DB.Close()
	code, out, errOut := run(t, "report", "stats", "--tenant", "lab", "--group-by", "subject", "--config", cfgPath)
	// The sandbox message is not counted; the label is one cell; both wait in the queue.
	if code != 0 || !strings.Contains(out, "Flu clinic dates  total  2         2") {
		t.Fatalf("table: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "report", "stats", "--tenant", "lab", "--group-by", "metadata.clinic", "--interval", "day", "--format", "csv", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "\nmetadata.clinic,") || !strings.Contains(out, ",north,,2,2,") {
		t.Fatalf("csv: %d %q", code, out)
	}
	if code, _, errOut := run(t, "report", "stats", "--tenant", "lab", "--group-by", "colour", "--config", cfgPath); code != 1 || !strings.Contains(errOut, "group_by") {
		t.Fatalf("bad group: %d %q", code, errOut)
	}
}
