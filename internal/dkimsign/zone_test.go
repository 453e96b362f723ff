package dkimsign

import (
	"strings"
	"testing"
)

func TestZoneRecordSplitsLongValues(t *testing.T) {
	t.Parallel()
	key, err := GenerateKey("rsa")
	if err != nil {
		t.Fatal(err)
	}
	name, value, err := DNSRecord("s1", "example.org", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	parts := SplitTXT(value)
	if len(value) <= 255 || len(parts) != (len(value)+254)/255 || strings.Join(parts, "") != value {
		t.Fatalf("%d bytes split into %d parts", len(value), len(parts))
	}
	for _, p := range parts {
		if len(p) > 255 {
			t.Fatalf("part of %d bytes", len(p))
		}
	}
	rec := ZoneRecord(name, value)
	want := "s1._domainkey.example.org. IN TXT ( \"" + parts[0] + "\"\n\t\"" + parts[1] + "\""
	if !strings.HasPrefix(rec, want) || !strings.HasSuffix(rec, "\" )") {
		t.Fatalf("zone record:\n%s", rec)
	}
	if got := ZoneRecord("a.example.", "v=DKIM1; p=x"); got != `a.example. IN TXT "v=DKIM1; p=x"` {
		t.Fatalf("short record: %s", got)
	}
}
