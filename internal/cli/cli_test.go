package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		code, out, errOut := run(t, c.name, "--help")
		if code != 0 || !strings.Contains(out, "Usage: sealpost "+c.name) {
			t.Errorf("%s --help: code %d, stdout %q, stderr %q", c.name, code, out, errOut)
		}
	}
	if code, _, _ := run(t, "nonsense"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "sealpost ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func writeConfig(t *testing.T) string {
	dir := t.TempDir()
	path := filepath.Join(dir, "sealpost.toml")
	os.WriteFile(path, []byte("data_dir = \""+dir+"\"\n"), 0o600)
	return path
}

// TestAdminLifecycle drives the admin commands the README lists, then rotates the
// master key and checks every tenant key still opens with the new key alone.
func TestAdminLifecycle(t *testing.T) {
	cfg := writeConfig(t)
	if code, _, errOut := run(t, "serve", "--config", cfg); code != 1 || !strings.Contains(errOut, "no master key") {
		t.Fatalf("serve without a master key: %d %q", code, errOut)
	}
	steps := [][]string{
		{"masterkey", "init"},
		{"tenant", "create", "stmarys"},
		{"domain", "add", "--tenant", "stmarys", "stmarys.example", "--verified"},
		{"dkim", "keygen", "--tenant", "stmarys", "--domain", "stmarys.example", "--algorithm", "ed25519"},
		{"key", "create", "--tenant", "stmarys", "--scopes", "send,read", "--expires", "30d"},
		{"tenant", "list"},
		{"key", "list", "--tenant", "stmarys"},
	}
	var secret string
	for _, s := range steps {
		code, out, errOut := run(t, append(s, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", s, code, errOut)
		}
		if s[0] == "key" && s[1] == "create" {
			secret = strings.TrimSpace(out)
		}
		if s[0] == "dkim" && !strings.Contains(out, "v=DKIM1; k=ed25519; p=") {
			t.Fatalf("dkim keygen printed %q", out)
		}
	}
	if code, _, errOut := run(t, "key", "create", "--tenant", "stmarys", "--scopes", "launch", "--config", cfg); code != 1 || !strings.Contains(errOut, "unknown scope") {
		t.Fatalf("bad scope: %d %q", code, errOut)
	}
	c, _ := config.Load(cfg, nil)
	before, _ := os.ReadFile(c.MasterKeyFile)
	if code, out, errOut := run(t, "masterkey", "rotate", "--config", cfg); code != 0 || !strings.Contains(out, "1 tenant keys re-wrapped") {
		t.Fatalf("rotate: %d %q %q", code, out, errOut)
	}
	after, _ := os.ReadFile(c.MasterKeyFile)
	if bytes.Equal(before, after) {
		t.Fatal("key file unchanged by rotation")
	}
	ring, err := server.LoadKeyring(c)
	if err != nil || len(ring.IDs()) != 1 {
		t.Fatalf("keyring after rotation: %v %v", ring, err)
	}
	db, err := server.OpenDB(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := tenant.New(db, ring)
	p, err := ts.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Keys(context.Background(), p.TenantID); err != nil {
		t.Fatalf("tenant key unreadable after rotation: %v", err)
	}
	if _, _, err := ts.DKIMKey(context.Background(), p.TenantID, "stmarys.example"); err != nil {
		t.Fatalf("DKIM key unreadable after rotation: %v", err)
	}

	// Every action above is in the audit trail; verify proves it intact, and catches a change.
	cpFile := filepath.Join(t.TempDir(), "checkpoint.json")
	if code, _, errOut := run(t, "audit", "checkpoint", "--out", cpFile, "--config", cfg); code != 0 {
		t.Fatalf("checkpoint: %s", errOut)
	}
	if code, out, errOut := run(t, "audit", "verify", "--checkpoint", cpFile, "--config", cfg); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
	if code, out, _ := run(t, "audit", "export", "--config", cfg); code != 0 || !strings.Contains(out, `"masterkey.rotate"`) || !strings.Contains(out, `"key.create"`) {
		t.Fatalf("export: %q", out)
	}
	db.SQL().Exec("UPDATE audit_log SET object = 'forged' WHERE seq = 2")
	if code, _, errOut := run(t, "audit", "verify", "--config", cfg); code != 1 || !strings.Contains(errOut, "first bad entry 2") {
		t.Fatalf("tampered log: %d %q", code, errOut)
	}
}

func TestQueueCommands(t *testing.T) {
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
	p := &tenant.Principal{TenantID: tn.ID, Scopes: []string{"send"}}
	from, _ := message.ParseAddress("a@lab.example")
	to, _ := message.ParseAddress("p@patient.example")
	if _, err := s.Pipeline.Submit(ctx, &pipeline.Submission{Principal: p, Draft: &message.Draft{From: from, To: []message.Address{to}, Subject: "s", Text: "t"}}); err != nil {
		t.Fatal(err)
	}
	jobs, _, _ := s.DB.Jobs(ctx, 10)
	s.DB.Close()
	if len(jobs) != 1 {
		t.Fatalf("jobs: %d", len(jobs))
	}
	id := fmt.Sprint(jobs[0].ID)
	if code, out, _ := run(t, "queue", "list", "--config", cfgPath); code != 0 || !strings.Contains(out, "patient.example") || strings.Contains(out, "p@patient.example") {
		t.Fatalf("list: %d %q", code, out)
	}
	run(t, "queue", "hold", id, "--config", cfgPath)
	if _, out, _ := run(t, "queue", "list", "--config", cfgPath); !strings.Contains(out, "held") {
		t.Fatalf("not held: %q", out)
	}
	if code, _, _ := run(t, "queue", "drop", id, "--config", cfgPath); code != 2 {
		t.Fatal("drop without --yes accepted")
	}
	if code, _, errOut := run(t, "queue", "drop", id, "--yes", "--config", cfgPath); code != 0 {
		t.Fatalf("drop: %s", errOut)
	}
	if _, out, _ := run(t, "queue", "list", "--config", cfgPath); strings.Contains(out, "patient.example") {
		t.Fatalf("dropped job still listed: %q", out)
	}
	if code, _, errOut := run(t, "queue", "retry", id, "--config", cfgPath); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("retry of a dropped job: %d %q", code, errOut)
	}
}

func TestHeadersCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(path, []byte("Received: from mx.example.net (mx.example.net [192.0.2.7])\r\n\tby mail.example.org (Postfix) with ESMTP id 4AB;\r\n\tMon, 23 Nov 2026 10:00:00 +0000\r\n"+
		"Received: from relay.example.com (relay.example.com [198.51.100.1])\r\n\tby mx.example.net (Postfix) with ESMTPS id 3F2\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits));\r\n\tMon, 23 Nov 2026 09:59:58 +0000\r\nSubject: x\r\n\r\nbody\r\n"), 0o600)
	code, out, errOut := run(t, "headers", path)
	if code != 0 || !strings.Contains(out, "Verdict: not encrypted") || !strings.Contains(out, "Hop 2 (mx.example.net → mail.example.org") {
		t.Fatalf("table: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "headers", "--json", path)
	if code != 0 || !strings.Contains(out, `"class": "encrypted"`) || !strings.Contains(out, `"version": "TLSv1.3"`) {
		t.Fatalf("json: %d %q", code, out)
	}
}

func TestCheckDomainCommand(t *testing.T) {
	dns, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	dns.AddTXT("shop.example", "v=spf1 ip4:192.0.2.1 -all")
	dns.AddTXT("_dmarc.shop.example", "v=DMARC1; p=none; rua=mailto:d@shop.example")
	cfg := writeConfig(t)
	os.WriteFile(cfg, append(must(os.ReadFile(cfg)), []byte("[delivery]\ndns_server = \""+dns.Addr()+"\"\nsending_ips = [\"192.0.2.9\"]\n")...), 0o600)
	code, out, errOut := run(t, "check-domain", "shop.example", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "some checks failed") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	for _, want := range []string{"spf", "ip4:192.0.2.9", "dmarc", "p=quarantine"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
