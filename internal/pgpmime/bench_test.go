package pgpmime

import (
	"testing"
	"time"
)

// The per-recipient cost of Encrypt for a 10 KiB entity, with recipient keys made by
// GnuPG as they arrive from recipients, parsed once as the queue would cache them.

func BenchmarkEncryptX25519_10KiB(b *testing.B) {
	benchEncrypt(b, "future-default", false)
}

func BenchmarkEncryptRSA2048_10KiB(b *testing.B) {
	benchEncrypt(b, "rsa2048", false)
}

func BenchmarkEncryptSigned10KiB(b *testing.B) {
	benchEncrypt(b, "future-default", true)
}

func benchEncrypt(b *testing.B, algo string, signed bool) {
	g := newGPG(b)
	usage := "default"
	if algo == "rsa2048" {
		usage = "sign,encr"
	}
	fpr := g.genKey("Pat <pat@patient.example>", algo, usage, "never")
	key, err := ParseKey(g.export(fpr))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var signer *Signer
	if signed {
		armored, _ := newTenantKey(b, nil, now.Add(-time.Hour))
		if signer, err = NewSigner(armored, nil); err != nil {
			b.Fatal(err)
		}
	}
	entity := testEntity(10 << 10)
	b.SetBytes(int64(len(entity)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encrypt(entity, key, signer, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseKey is the cost of reading a stored key when it is not cached.
func BenchmarkParseKey(b *testing.B) {
	g := newGPG(b)
	data := g.export(g.genKey("Pat <pat@patient.example>", "future-default", "default", "never"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseKey(data); err != nil {
			b.Fatal(err)
		}
	}
}
