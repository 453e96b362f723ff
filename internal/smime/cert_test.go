package smime

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCheckCertificate(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	rsa2048 := rsaKey(t, 2048)
	now := p.now
	const addr = "Alice.Smith@Example.ORG"

	// test issues a certificate for addr with key (RSA-2048 when nil), lets edit change
	// the template, and checks the verdict for rcptAddr.
	test := func(name, rcptAddr string, key crypto.Signer, edit func(*x509.Certificate), want error) {
		t.Run(name, func(t *testing.T) {
			tmpl := p.smimeTemplate(addr)
			if edit != nil {
				edit(tmpl)
			}
			if key == nil {
				key = rsa2048
			}
			leaf := p.issue(t, "c", key, tmpl)
			err := CheckCertificate(leaf.cert, rcptAddr, now)
			if (want == nil) != (err == nil) || !errors.Is(err, want) {
				t.Fatalf("CheckCertificate = %v, want %v", err, want)
			}
			if err != nil && strings.Contains(strings.ToLower(err.Error()), "alice") {
				t.Fatalf("error names the address: %v", err)
			}
		})
	}
	test("good", addr, nil, nil, nil)
	test("domain case-insensitive", "Alice.Smith@example.org", nil, nil, nil)
	test("local part case-sensitive", "alice.smith@Example.ORG", nil, nil, ErrAddress)
	test("wrong address", "bob@example.org", nil, nil, ErrAddress)
	test("not an address", "Alice.Smith", nil, nil, ErrAddress)
	test("address only in subject emailAddress", "Alice.Smith@example.org", nil, func(c *x509.Certificate) {
		c.EmailAddresses = nil
		c.Subject.ExtraNames = []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: addr},
		}
	}, nil)
	test("expired", addr, nil, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = now.Add(-48*time.Hour), now.Add(-time.Hour)
	}, ErrExpired)
	test("not yet valid", addr, nil, func(c *x509.Certificate) {
		c.NotBefore = now.Add(time.Hour)
	}, ErrNotYetValid)
	test("rsa-1024", addr, rsaKey(t, 1024), nil, ErrWeakKey)
	test("wrong eku", addr, nil, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}, ErrExtKeyUsage)
	test("any eku", addr, nil, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}, nil)
	test("no eku", addr, nil, func(c *x509.Certificate) { c.ExtKeyUsage = nil }, nil)
	test("no key usage", addr, nil, func(c *x509.Certificate) { c.KeyUsage = 0 }, nil)
	test("signature-only key usage", addr, nil, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature
	}, ErrKeyUsage)
	test("ec p-256", addr, ecKey(t, elliptic.P256()), func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageKeyAgreement
	}, nil)
	test("ec without keyAgreement", addr, ecKey(t, elliptic.P256()), nil, ErrKeyUsage)
	test("ec p-224", addr, ecKey(t, elliptic.P224()), func(c *x509.Certificate) { c.KeyUsage = 0 }, ErrKeyType)

	if err := CheckCertificate(nil, addr, now); err == nil {
		t.Fatal("nil certificate accepted")
	}
}

func TestSupportsGCM(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	key := ecKey(t, elliptic.P256())
	test := func(name string, ext []pkix.Extension, want bool) {
		t.Run(name, func(t *testing.T) {
			tmpl := p.smimeTemplate("alice@example.org")
			tmpl.ExtraExtensions = ext
			leaf := p.issue(t, "c", key, tmpl)
			if got := SupportsGCM(leaf.cert); got != want {
				t.Fatalf("SupportsGCM = %v, want %v", got, want)
			}
		})
	}
	test("none", nil, false)
	test("aes256-gcm", []pkix.Extension{capabilitiesExtension(t, testAES256CBC, testAES256GCM)}, true)
	test("aes128-gcm only", []pkix.Extension{capabilitiesExtension(t, testAES128GCM)}, true)
	test("cbc only", []pkix.Extension{capabilitiesExtension(t, testAES256CBC)}, false)
	test("malformed", []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}, Value: []byte{0x30, 0x05, 0x06}}}, false)
	if SupportsGCM(nil) {
		t.Fatal("nil certificate supports GCM")
	}
}

func TestParseCertificateAndFingerprint(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	p := newTestPKI(t)
	leaf := p.issue(t, "c", rsaKey(t, 2048), p.smimeTemplate("alice@example.org"))
	pemBytes, err := os.ReadFile(leaf.certPath)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(leaf.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"pem":            pemBytes,
		"der":            leaf.cert.Raw,
		"key before pem": append(append([]byte{}, keyPEM...), pemBytes...),
	} {
		got, err := ParseCertificate(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(leaf.cert) {
			t.Fatalf("%s: different certificate", name)
		}
	}
	for name, in := range map[string][]byte{
		"garbage":  []byte("not a certificate"),
		"key only": keyPEM,
		"bad pem":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := ParseCertificate(in); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}

	// The fingerprint matches openssl's, colons and case aside.
	out, _ := runOpenSSL(t, nil, "x509", "-in", leaf.certPath, "-noout", "-fingerprint", "-sha256")
	_, want, _ := strings.Cut(strings.TrimSpace(string(out)), "=")
	want = strings.ToLower(strings.ReplaceAll(want, ":", ""))
	if got := Fingerprint(leaf.cert); got != want {
		t.Fatalf("Fingerprint = %s, openssl says %s", got, want)
	}
}

func FuzzParseCertificate(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		cert, err := ParseCertificate(in)
		if err != nil {
			return
		}
		// Whatever parses must be safe to inspect.
		SupportsGCM(cert)
		_ = CheckCertificate(cert, "a@example.org", time.Now())
		if len(Fingerprint(cert)) != 64 {
			t.Fatal("fingerprint is not 32 hex bytes")
		}
	})
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
