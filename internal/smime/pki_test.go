package smime

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a throwaway CA writing every certificate and key it issues as PEM files into
// a private temporary directory, so the real openssl binary can use them.
type testPKI struct {
	dir    string
	now    time.Time
	ca     *x509.Certificate
	caKey  crypto.Signer
	caPath string
	serial int64
}

// testLeaf is an issued certificate with its key and the paths of their PEM files.
type testLeaf struct {
	cert     *x509.Certificate
	key      crypto.Signer
	certPath string
	keyPath  string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: t.TempDir(), now: time.Now(), caKey: key, serial: 1}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Sealpost Test CA"},
		NotBefore:             p.now.Add(-time.Hour),
		NotAfter:              p.now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caPath = writePEM(t, p.dir, "ca.pem", "CERTIFICATE", der)
	return p
}

// smimeTemplate is a typical S/MIME end-entity certificate for addr, valid now.
func (p *testPKI) smimeTemplate(addr string) *x509.Certificate {
	return &x509.Certificate{
		Subject:        pkix.Name{CommonName: "Test Person"},
		EmailAddresses: []string{addr},
		NotBefore:      p.now.Add(-time.Hour),
		NotAfter:       p.now.Add(12 * time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
}

// issue signs tmpl for key with the CA and writes name.pem and name.key.
func (p *testPKI) issue(t testing.TB, name string, key crypto.Signer, tmpl *x509.Certificate) testLeaf {
	t.Helper()
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, key.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testLeaf{
		cert:     cert,
		key:      key,
		certPath: writePEM(t, p.dir, name+".pem", "CERTIFICATE", der),
		keyPath:  writePEM(t, p.dir, name+".key", "PRIVATE KEY", pkcs8),
	}
}

func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// capabilitiesExtension builds an SMIMECapabilities certificate extension (RFC 4262)
// listing the given algorithms, independently of the package's own encoding.
func capabilitiesExtension(t testing.TB, oids ...asn1.ObjectIdentifier) pkix.Extension {
	t.Helper()
	type capability struct {
		Algorithm asn1.ObjectIdentifier
	}
	caps := make([]capability, len(oids))
	for i, o := range oids {
		caps[i] = capability{o}
	}
	val, err := asn1.Marshal(caps)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}, Value: val}
}

var (
	testAES256GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
	testAES128GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	testAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// requireOpenSSL fails the test unless an OpenSSL 3.x binary is installed: AuthEnvelopedData
// decryption arrived in OpenSSL 3.0, and LibreSSL has none.
func requireOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found; scripts/deps.sh installs it")
	}
	out, err := exec.Command("openssl", "version").Output()
	if err != nil {
		t.Fatalf("openssl version: %v", err)
	}
	v := string(out)
	if !strings.HasPrefix(v, "OpenSSL ") || strings.HasPrefix(v, "OpenSSL 1.") || strings.HasPrefix(v, "OpenSSL 0.") {
		t.Fatalf("need OpenSSL 3.x for AuthEnvelopedData, have %q; scripts/deps.sh installs it", strings.TrimSpace(v))
	}
}

// runOpenSSL runs openssl with stdin and returns stdout and stderr; the test fails when it
// exits non-zero.
func runOpenSSL(t testing.TB, stdin []byte, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", args[0], err, e.Bytes())
	}
	return o.Bytes(), e.Bytes()
}
