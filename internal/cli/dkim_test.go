package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/server"
)

// TestDKIMShowPrintsTheRecordAsZoneFilesNeedIt: an RSA-2048 record is longer than one
// TXT string may be; keygen and show print it as 255-byte strings.
func TestDKIMShowPrintsTheRecordAsZoneFilesNeedIt(t *testing.T) {
	cfg := setupTenant(t)
	if code, _, errOut := run(t, "domain", "add", "--tenant", "lab", "--verified", "lab.example", "--config", cfg); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := run(t, "dkim", "show", "--tenant", "lab", "--domain", "lab.example", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "no DKIM key for lab.example") || !strings.Contains(errOut, "dkim keygen --tenant lab --domain lab.example") {
		t.Fatalf("show without a key: %d %q", code, errOut)
	}
	code, keygen, errOut := run(t, "dkim", "keygen", "--tenant", "lab", "--domain", "lab.example", "--selector", "s1", "--config", cfg)
	if code != 0 {
		t.Fatal(errOut)
	}
	code, show, errOut := run(t, "dkim", "show", "--tenant", "lab", "--domain", "LAB.example.", "--config", cfg)
	if code != 0 || show != keygen {
		t.Fatalf("show: %d %q\nkeygen printed:\n%s\nshow printed:\n%s", code, errOut, keygen, show)
	}
	c, _ := config.Load(cfg, nil)
	db, err := server.OpenDB(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tn, _ := db.Tenant(context.Background(), "lab")
	k, err := db.ActiveDKIMKey(context.Background(), tn.ID, "lab.example")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(show, "s1._domainkey.lab.example. IN TXT ( \"v=DKIM1; k=rsa; p=") {
		t.Fatalf("record line:\n%s", show)
	}
	var joined string
	for _, m := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(show, -1) {
		if len(m[1]) > 255 {
			t.Fatalf("a string of %d bytes:\n%s", len(m[1]), show)
		}
		joined += m[1]
	}
	if joined != k.DNSValue || len(k.DNSValue) <= 255 {
		t.Fatalf("strings join to %q, want %q", joined, k.DNSValue)
	}
}
