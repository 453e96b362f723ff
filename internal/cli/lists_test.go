package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
)

// TestAuditExportIsComplete: the export once stopped at 1,000 entries without a word.
// 2,300 entries span three of Export's pages.
func TestAuditExportIsComplete(t *testing.T) {
	cfg := setupTenant(t)
	if code, _, errOut := run(t, "tenant", "create", "other", "--config", cfg); code != 0 {
		t.Fatal(errOut)
	}
	c, _ := config.Load(cfg, nil)
	ctx := context.Background()
	db, err := server.OpenDB(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	lab, _ := db.Tenant(ctx, "lab")
	other, _ := db.Tenant(ctx, "other")
	log := audit.New(db, nil)
	const n = 2300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				tid := lab.ID
				if i%2 == 1 {
					tid = other.ID
				}
				if err := log.Record(ctx, audit.Entry{TenantID: tid, Principal: "test", Action: "test.entry", Object: fmt.Sprint(i), Result: "ok"}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int
	db.SQL().QueryRow("SELECT COUNT(*) FROM audit_log").Scan(&total)
	db.Close()
	code, out, errOut := run(t, "audit", "export", "--config", cfg)
	if lines := strings.Count(out, "\n"); code != 0 || lines != total || total < n {
		t.Fatalf("export: exit %d, %d lines of %d entries: %s", code, lines, total, errOut)
	}
	code, out, errOut = run(t, "audit", "export", "--tenant", "lab", "--config", cfg)
	if lines := strings.Count(out, `"test.entry"`); code != 0 || lines != n/2 {
		t.Fatalf("export --tenant: exit %d, %d test entries, want %d: %s", code, lines, n/2, errOut)
	}
}

// TestQueueListSaysWhenJobsAreLeftOut: 120 jobs, more than the default of 100.
func TestQueueListSaysWhenJobsAreLeftOut(t *testing.T) {
	cfg := setupTenant(t)
	if code, _, errOut := run(t, "domain", "add", "--tenant", "lab", "--verified", "lab.example", "--config", cfg); code != 0 {
		t.Fatal(errOut)
	}
	c, _ := config.Load(cfg, nil)
	ctx := context.Background()
	s, err := server.New(ctx, c, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := s.Tenants.Tenant(ctx, "lab")
	p := &tenant.Principal{TenantID: tn.ID, Scopes: []string{"send"}}
	from, _ := message.ParseAddress("a@lab.example")
	for m := range 3 {
		var to []message.Address
		for i := range 40 {
			a, _ := message.ParseAddress(fmt.Sprintf("p%d-%d@patient.example", m, i))
			to = append(to, a)
		}
		if _, err := s.Pipeline.Submit(ctx, &pipeline.Submission{Principal: p, Draft: &message.Draft{From: from, To: to, Subject: "s", Text: "t"}}); err != nil {
			t.Fatal(err)
		}
	}
	s.DB.Close()
	rows := func(out string) int { return strings.Count(out, "patient.example") }
	code, out, errOut := run(t, "queue", "list", "--config", cfg)
	if code != 0 || rows(out) != 100 || !strings.Contains(errOut, "only the first 100 jobs are shown") {
		t.Fatalf("default list: exit %d, %d rows, stderr %q", code, rows(out), errOut)
	}
	code, out, errOut = run(t, "queue", "list", "--limit", "0", "--config", cfg)
	if code != 0 || rows(out) != 120 || errOut != "" {
		t.Fatalf("--limit 0: exit %d, %d rows, stderr %q", code, rows(out), errOut)
	}
	code, out, errOut = run(t, "queue", "list", "--limit", "120", "--config", cfg)
	if code != 0 || rows(out) != 120 || errOut != "" {
		t.Fatalf("--limit 120: exit %d, %d rows, stderr %q", code, rows(out), errOut)
	}
}

// TestRecipientKeyListIsComplete: 1,100 keys, more than the 1,000 the list once
// stopped at and than two pages of it.
func TestRecipientKeyListIsComplete(t *testing.T) {
	cfg := setupTenant(t)
	c, _ := config.Load(cfg, nil)
	ctx := context.Background()
	s, err := server.New(ctx, c, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := s.Tenants.Tenant(ctx, "lab")
	const n = 1100
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				addr := fmt.Sprintf("k%04d@patient.example", i)
				cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return now.Add(-time.Hour) }}
				ent, err := openpgp.NewEntity("K", "", addr, cfg)
				if err != nil {
					errs <- err
					return
				}
				var b bytes.Buffer
				aw, _ := armor.Encode(&b, openpgp.PublicKeyType, nil)
				ent.Serialize(aw)
				aw.Close()
				if _, err := s.Secure.AddKey(ctx, tn.ID, "pgp", addr, b.Bytes(), "api"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.DB.Close()
	code, out, errOut := run(t, "recipient-key", "list", "--tenant", "lab", "--config", cfg)
	if rows := strings.Count(out, "@patient.example"); code != 0 || rows != n {
		t.Fatalf("list: exit %d, %d rows of %d: %s", code, rows, n, errOut)
	}
}
