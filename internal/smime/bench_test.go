package smime

import (
	"bytes"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// benchEntity is a 10 KiB text entity, the size of a typical clinical letter.
func benchEntity() []byte {
	head := "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
	line := "Patient reviewed; results attached; follow-up in two weeks as agreed.   \r\n"
	body := bytes.Repeat([]byte(line), (10*1024-len(head))/len(line)+1)
	return append([]byte(head), body...)[:10*1024]
}

func benchEncrypt(b *testing.B, cert *x509.Certificate, opts Options) {
	entity := benchEntity()
	b.SetBytes(int64(len(entity)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encrypt(entity, Recipient{Cert: cert}, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func gcmRecipient(b *testing.B, p *testPKI) testLeaf {
	tmpl := p.smimeTemplate("alice@example.org")
	tmpl.ExtraExtensions = []pkix.Extension{capabilitiesExtension(b, testAES256GCM)}
	return p.issue(b, "gcm", rsaKey(b, 2048), tmpl)
}

func BenchmarkEncryptGCM10KiB(b *testing.B) {
	p := newTestPKI(b)
	benchEncrypt(b, gcmRecipient(b, p).cert, Options{})
}

func BenchmarkEncryptCBC10KiB(b *testing.B) {
	p := newTestPKI(b)
	rcpt := p.issue(b, "cbc", rsaKey(b, 2048), p.smimeTemplate("alice@example.org"))
	benchEncrypt(b, rcpt.cert, Options{})
}

// BenchmarkEncryptSigned10KiB signs with an RSA-2048 key, then envelops with AES-256-GCM.
func BenchmarkEncryptSigned10KiB(b *testing.B) {
	p := newTestPKI(b)
	signer := p.issue(b, "signer", rsaKey(b, 2048), p.smimeTemplate("sender@example.org"))
	benchEncrypt(b, gcmRecipient(b, p).cert, Options{Signer: &Signer{Cert: signer.cert, Key: signer.key}})
}

func BenchmarkEncryptECDH10KiB(b *testing.B) {
	p := newTestPKI(b)
	tmpl := p.smimeTemplate("alice@example.org")
	tmpl.KeyUsage = x509.KeyUsageKeyAgreement
	benchEncrypt(b, p.issue(b, "ec", ecKey(b, elliptic.P256()), tmpl).cert, Options{GCM: true})
}
