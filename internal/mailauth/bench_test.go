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

// BenchmarkARCChain validates a two-hop chain (RSA-2048 then Ed25519) on a 20 KB
// message: structure, the newest message signature, both seals and the older message
// signature for oldest-pass; keys from an in-memory resolver.
func BenchmarkARCChain(b *testing.B) {
	k1, txt1 := rsaKey(b)
	pub2, k2, _ := ed25519.GenerateKey(rand.Reader)
	z := zone{"arc._domainkey.list.example": {txt1},
		"arc._domainkey.relay.example": {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub2)}}
	body := strings.Repeat("The results of your test are ready to view.\r\n", 450)
	raw := []byte("From: a@lab.example\r\nTo: dr@hospital.example\r\nSubject: Results\r\n\r\n" + body)
	raw = sealer{"relay.example", k2}.seal(b, sealer{"list.example", k1}.seal(b, raw, "none"), "pass")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := ARCChain(context.Background(), z, raw); res != "pass" {
			b.Fatal(res)
		}
	}
}
