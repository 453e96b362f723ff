package mailauth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"testing"
)

// BenchmarkCheck is the verdict on one 20 KB DKIM-signed message: SPF, one Ed25519
// signature and DMARC, over an in-memory resolver (DNS time excluded), then stamping.
func BenchmarkCheck(b *testing.B) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	z := zone{"s._domainkey.lab.example": {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)},
		"lab.example": {"v=spf1 ip4:192.0.2.10 -all"}, "_dmarc.lab.example": {"v=DMARC1; p=reject"}}
	body := strings.Repeat("The results of your test are ready to view.\r\n", 450)
	raw := sign(b, key, "lab.example", "From: a@lab.example\r\nTo: dr@hospital.example\r\nSubject: Results\r\n\r\n"+body)
	in := Input{IP: net.ParseIP("192.0.2.10"), Helo: "mx.lab.example", MailFrom: "a@lab.example", FromDomain: "lab.example", Raw: raw}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		v := Check(context.Background(), z, in)
		if v.DMARC != "pass" {
			b.Fatalf("verdict %+v", v)
		}
		if _, err := Stamp(raw, "mx.ours.example", v.Header("mx.ours.example")); err != nil {
			b.Fatal(err)
		}
	}
}
