package tlssec_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// chain returns the certificates of a devnet certificate, leaf first.
func chain(t testing.TB, der [][]byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, d := range der {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// expiredSelfSigned makes a certificate whose validity ended a year ago.
func expiredSelfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "old.test"},
		DNSNames:     []string{"old.test"},
		NotBefore:    time.Now().AddDate(-2, 0, 0),
		NotAfter:     time.Now().AddDate(-1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func rec(usage, selector, mtype uint8, cert *x509.Certificate) tlssec.TLSA {
	return tlssec.TLSA{Usage: usage, Selector: selector, MatchingType: mtype, Data: devnet.TLSAData(cert, selector, mtype)}
}

func TestVerifyTLSA(t *testing.T) {
	t.Parallel()
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := devnet.NewCA()
	issued, _ := ca.Issue("mx.a.test", "*.pool.a.test")
	full := chain(t, issued.Certificate) // leaf, root
	leaf, root := full[0], full[1]
	otherLeaf, _ := other.Issue("mx.a.test")
	otherRoot := chain(t, otherLeaf.Certificate)[1]
	self, _ := devnet.SelfSigned("self.test")
	expired := expiredSelfSigned(t)
	short := rec(3, 1, 1, leaf)
	short.Data = short.Data[:31]

	const (
		ok       = ""
		mismatch = "matches none"
		unusable = "no usable"
	)
	for _, tc := range []struct {
		name  string
		recs  []tlssec.TLSA
		chain []*x509.Certificate
		names []string
		want  string
	}{
		{"EE spki sha256", []tlssec.TLSA{rec(3, 1, 1, leaf)}, full, nil, ok},
		{"EE spki sha512", []tlssec.TLSA{rec(3, 1, 2, leaf)}, full, nil, ok},
		{"EE spki full", []tlssec.TLSA{rec(3, 1, 0, leaf)}, full, nil, ok},
		{"EE cert sha256", []tlssec.TLSA{rec(3, 0, 1, leaf)}, full, nil, ok},
		{"EE cert sha512", []tlssec.TLSA{rec(3, 0, 2, leaf)}, full, nil, ok},
		{"EE cert full", []tlssec.TLSA{rec(3, 0, 0, leaf)}, full, nil, ok},
		// RFC 7672 3.1.1: neither the name nor the expiry matters to DANE-EE.
		{"EE self-signed, other name", []tlssec.TLSA{rec(3, 1, 1, self.Leaf)}, []*x509.Certificate{self.Leaf}, []string{"mx.a.test"}, ok},
		{"EE expired", []tlssec.TLSA{rec(3, 0, 1, expired)}, []*x509.Certificate{expired}, nil, ok},
		{"EE other key", []tlssec.TLSA{rec(3, 1, 1, self.Leaf)}, full, nil, mismatch},
		{"EE matches only the root", []tlssec.TLSA{rec(3, 1, 1, root)}, full, nil, mismatch},
		{"TA cert sha256", []tlssec.TLSA{rec(2, 0, 1, root)}, full, []string{"mx.a.test"}, ok},
		{"TA spki sha256", []tlssec.TLSA{rec(2, 1, 1, root)}, full, []string{"MX.A.test."}, ok},
		{"TA cert full", []tlssec.TLSA{rec(2, 0, 0, root)}, full, []string{"mx.a.test"}, ok},
		{"TA spki sha512", []tlssec.TLSA{rec(2, 1, 2, root)}, full, []string{"mx.a.test"}, ok},
		{"TA wildcard name", []tlssec.TLSA{rec(2, 0, 1, root)}, full, []string{"mx3.pool.a.test"}, ok},
		{"TA second reference identifier", []tlssec.TLSA{rec(2, 0, 1, root)}, full, []string{"base.test", "mx.a.test"}, ok},
		// RFC 7672 3.2.2: with DANE-TA the name must match.
		{"TA wrong name", []tlssec.TLSA{rec(2, 0, 1, root)}, full, []string{"mx.b.test"}, "not valid for mx.b.test"},
		{"TA not presented", []tlssec.TLSA{rec(2, 0, 1, root)}, full[:1], []string{"mx.a.test"}, mismatch},
		{"TA other CA", []tlssec.TLSA{rec(2, 0, 1, otherRoot)}, full, []string{"mx.a.test"}, mismatch},
		{"TA presented but leaf from another CA", []tlssec.TLSA{rec(2, 0, 1, root)}, []*x509.Certificate{chain(t, otherLeaf.Certificate)[0], root}, []string{"mx.a.test"}, "DANE-TA"},
		// RFC 7672 3.1.3: PKIX usages are unusable for SMTP.
		{"PKIX-TA only", []tlssec.TLSA{rec(0, 0, 1, root)}, full, []string{"mx.a.test"}, unusable},
		{"PKIX-EE only", []tlssec.TLSA{rec(1, 1, 1, leaf)}, full, []string{"mx.a.test"}, unusable},
		{"unknown selector", []tlssec.TLSA{{Usage: 3, Selector: 2, MatchingType: 1, Data: bytes.Repeat([]byte{1}, 32)}}, full, nil, unusable},
		{"unknown matching type", []tlssec.TLSA{{Usage: 3, Selector: 1, MatchingType: 3, Data: []byte{1}}}, full, nil, unusable},
		{"digest of wrong length", []tlssec.TLSA{short}, full, nil, unusable},
		{"no records", nil, full, nil, unusable},
		{"unusable match, usable mismatch", []tlssec.TLSA{rec(1, 1, 1, leaf), rec(3, 1, 1, self.Leaf)}, full, nil, mismatch},
		{"second record matches", []tlssec.TLSA{rec(3, 1, 1, self.Leaf), rec(2, 1, 1, root)}, full, []string{"mx.a.test"}, ok},
		{"no certificate", []tlssec.TLSA{rec(3, 1, 1, leaf)}, nil, nil, "no certificate"},
	} {
		err := tlssec.Verify(tc.recs, tc.chain, tc.names, time.Now())
		switch {
		case tc.want == ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if tc.want == unusable && !errors.Is(err, tlssec.ErrNoUsableTLSA) {
			t.Errorf("%s: %v is not ErrNoUsableTLSA", tc.name, err)
		}
	}
}

// TestAssociationOpenSSL checks the TLSA data against openssl's own
// computation of the same digests.
func TestAssociationOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not found; scripts/deps.sh installs it")
	}
	cert, err := devnet.SelfSigned("mx.openssl.test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, spkiFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "spki.der")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		out, err := exec.Command(openssl, args...).Output()
		if err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
		return string(out)
	}
	pub := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(pub, []byte(run("x509", "-in", certFile, "-noout", "-pubkey")), 0o600); err != nil {
		t.Fatal(err)
	}
	run("pkey", "-pubin", "-in", pub, "-outform", "DER", "-out", spkiFile)
	derFile := filepath.Join(dir, "cert.der")
	run("x509", "-in", certFile, "-outform", "DER", "-out", derFile)

	for _, tc := range []struct {
		selector, mtype uint8
		file, digest    string
	}{
		{1, 1, spkiFile, "-sha256"},
		{1, 2, spkiFile, "-sha512"},
		{0, 1, derFile, "-sha256"},
		{0, 2, derFile, "-sha512"},
	} {
		out := run("dgst", tc.digest, "-r", tc.file) // "<hex> *<file>"
		want := strings.Fields(out)[0]
		if got := hex.EncodeToString(tlssec.Association(cert.Leaf, tc.selector, tc.mtype)); got != want {
			t.Errorf("selector %d type %d: %s, openssl says %s", tc.selector, tc.mtype, got, want)
		}
	}
	spki, _ := os.ReadFile(spkiFile)
	if !bytes.Equal(tlssec.Association(cert.Leaf, 1, 0), spki) {
		t.Error("selector 1 type 0 differs from openssl's SubjectPublicKeyInfo")
	}
	if tlssec.Association(cert.Leaf, 2, 1) != nil || tlssec.Association(cert.Leaf, 1, 9) != nil {
		t.Error("unknown selector or matching type gave data")
	}
}

func BenchmarkVerifyDANEEE(b *testing.B) {
	cert, _ := devnet.SelfSigned("mx.bench.test")
	recs := []tlssec.TLSA{rec(3, 1, 1, cert.Leaf)}
	c := []*x509.Certificate{cert.Leaf}
	now := time.Now()
	for b.Loop() {
		if err := tlssec.Verify(recs, c, nil, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDANETA(b *testing.B) {
	ca, _ := devnet.NewCA()
	cert, _ := ca.Issue("mx.bench.test")
	c := chain(b, cert.Certificate)
	recs := []tlssec.TLSA{rec(2, 1, 1, c[1])}
	names := []string{"mx.bench.test"}
	now := time.Now()
	for b.Loop() {
		if err := tlssec.Verify(recs, c, names, now); err != nil {
			b.Fatal(err)
		}
	}
}
