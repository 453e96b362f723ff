package smime

import (
	"bytes"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

const testEntity = "Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Lab result for the referral: values within range.\r\n" +
	"Caf=C3=A9 follow-up next week.\r\n"

// wrapMessage puts an Encrypt result under the outer headers the queue adds.
func wrapMessage(part []byte) []byte {
	return append([]byte("From: sender@example.org\r\n"+
		"To: alice@example.org\r\n"+
		"Subject: Encrypted\r\n"+
		"MIME-Version: 1.0\r\n"), part...)
}

// roundTrip is one case: who receives, how, and what openssl must report.
type roundTrip struct {
	name      string
	rcpt      testLeaf
	opts      Options
	entity    string
	wantAlg   string
	wantKey   string
	wantPrint []string // substrings of `openssl cms -cmsout -print`
}

func TestEncryptOpenSSL(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	p := newTestPKI(t)

	gcmTmpl := p.smimeTemplate("alice@example.org")
	gcmTmpl.ExtraExtensions = append(gcmTmpl.ExtraExtensions,
		capabilitiesExtension(t, testAES256GCM, testAES128GCM, testAES256CBC))
	gcmRcpt := p.issue(t, "gcm", rsaKey(t, 2048), gcmTmpl)
	cbcRcpt := p.issue(t, "cbc", rsaKey(t, 2048), p.smimeTemplate("alice@example.org"))

	ecTmpl := p.smimeTemplate("alice@example.org")
	ecTmpl.KeyUsage = x509.KeyUsageKeyAgreement | x509.KeyUsageDigitalSignature
	ecRcpt := p.issue(t, "ec", ecKey(t, elliptic.P256()), ecTmpl)
	ec384Rcpt := p.issue(t, "ec384", ecKey(t, elliptic.P384()), ecTmpl)

	signer := p.issue(t, "signer", rsaKey(t, 2048), p.smimeTemplate("sender@example.org"))
	s := &Signer{Cert: signer.cert, Key: signer.key, Chain: []*x509.Certificate{p.ca}}

	gcmPrint := []string{"id-smime-ct-authEnvelopedData", "aes-256-gcm", "rsaEncryption"}
	cbcPrint := []string{"pkcs7-envelopedData", "aes-256-cbc", "rsaEncryption"}
	cases := []roundTrip{
		{name: "gcm", rcpt: gcmRcpt, wantAlg: AES256GCM, wantKey: KeyRSA, wantPrint: gcmPrint},
		{name: "cbc", rcpt: cbcRcpt, wantAlg: AES256CBC, wantKey: KeyRSA, wantPrint: cbcPrint},
		{name: "gcm signed", rcpt: gcmRcpt, opts: Options{Signer: s}, wantAlg: AES256GCM, wantKey: KeyRSA, wantPrint: gcmPrint},
		{name: "cbc signed", rcpt: cbcRcpt, opts: Options{Signer: s}, wantAlg: AES256CBC, wantKey: KeyRSA, wantPrint: cbcPrint},
		{name: "gcm oaep", rcpt: gcmRcpt, opts: Options{OAEP: true}, wantAlg: AES256GCM, wantKey: KeyRSAOAEP,
			wantPrint: []string{"id-smime-ct-authEnvelopedData", "aes-256-gcm", "rsaesOaep", "sha256"}},
		{name: "cbc forced gcm", rcpt: cbcRcpt, opts: Options{GCM: true}, wantAlg: AES256GCM, wantKey: KeyRSA, wantPrint: gcmPrint},
		{name: "ecdh cbc", rcpt: ecRcpt, wantAlg: AES256CBC, wantKey: KeyECDH,
			wantPrint: []string{"pkcs7-envelopedData", "aes-256-cbc", "dhSinglePass-stdDH-sha256kdf-scheme", "id-aes256-wrap"}},
		{name: "ecdh gcm signed", rcpt: ecRcpt, opts: Options{GCM: true, Signer: s}, wantAlg: AES256GCM, wantKey: KeyECDH,
			wantPrint: []string{"id-smime-ct-authEnvelopedData", "aes-256-gcm", "dhSinglePass-stdDH-sha256kdf-scheme"}},
		{name: "ecdh p-384", rcpt: ec384Rcpt, wantAlg: AES256CBC, wantKey: KeyECDH,
			wantPrint: []string{"dhSinglePass-stdDH-sha384kdf-scheme", "id-aes256-wrap"}},
		{name: "multipart", rcpt: gcmRcpt, wantAlg: AES256GCM, wantKey: KeyRSA, wantPrint: gcmPrint,
			entity: "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
				"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			entity := tc.entity
			if entity == "" {
				entity = testEntity
			}
			checkRoundTrip(t, p, tc, []byte(entity))
		})
	}
}

func checkRoundTrip(t *testing.T, p *testPKI, tc roundTrip, entity []byte) {
	out, info, err := Encrypt(entity, Recipient{Cert: tc.rcpt.cert}, tc.opts)
	if err != nil {
		t.Fatal(err)
	}
	if info.Algorithm != tc.wantAlg || info.KeyEncryption != tc.wantKey || info.Signed != (tc.opts.Signer != nil) {
		t.Fatalf("info = %+v, want %s %s signed=%v", info, tc.wantAlg, tc.wantKey, tc.opts.Signer != nil)
	}
	if info.CertFingerprint != Fingerprint(tc.rcpt.cert) {
		t.Fatalf("fingerprint %s", info.CertFingerprint)
	}
	checkP7MEntity(t, out, tc.wantAlg)
	msg := wrapMessage(out)

	printed, _ := runOpenSSL(t, msg, "cms", "-cmsout", "-print")
	for _, want := range tc.wantPrint {
		if !bytes.Contains(printed, []byte(want)) {
			t.Errorf("cms -print lacks %q:\n%s", want, printed)
		}
	}

	plain, _ := runOpenSSL(t, msg, "cms", "-decrypt", "-recip", tc.rcpt.certPath, "-inkey", tc.rcpt.keyPath)
	if tc.opts.Signer == nil {
		if !bytes.Equal(plain, entity) {
			t.Fatalf("decrypted entity differs:\n got %q\nwant %q", plain, entity)
		}
		return
	}
	if !bytes.HasPrefix(plain, []byte("Content-Type: application/pkcs7-mime; smime-type=signed-data;")) {
		t.Fatalf("decrypted entity is not opaque signed data:\n%.200s", plain)
	}
	inner, _ := runOpenSSL(t, plain, "cms", "-cmsout", "-print")
	for _, want := range []string{"pkcs7-signedData", "sha256WithRSAEncryption", "S/MIME Capabilities", ":aes-256-gcm"} {
		if !bytes.Contains(inner, []byte(want)) {
			t.Errorf("signed data lacks %q", want)
		}
	}
	verified, stderr := runOpenSSL(t, plain, "cms", "-verify", "-CAfile", p.caPath)
	if !strings.Contains(string(stderr), "Verification successful") {
		t.Fatalf("cms -verify: %s", stderr)
	}
	if !bytes.Equal(verified, entity) {
		t.Fatalf("verified entity differs:\n got %q\nwant %q", verified, entity)
	}
}

// checkP7MEntity checks the headers and the base64 body layout of an Encrypt result.
func checkP7MEntity(t *testing.T, out []byte, alg string) {
	t.Helper()
	smimeType := "enveloped-data"
	if alg == AES256GCM {
		smimeType = "authEnveloped-data"
	}
	head := "Content-Type: application/pkcs7-mime; smime-type=" + smimeType + "; name=smime.p7m\r\n" +
		"Content-Disposition: attachment; filename=smime.p7m\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	if !bytes.HasPrefix(out, []byte(head)) {
		t.Fatalf("headers:\n%.300s", out)
	}
	body := strings.TrimSuffix(string(out[len(head):]), "\r\n")
	lines := strings.Split(body, "\r\n")
	for i, l := range lines {
		if len(l) > 76 || (i < len(lines)-1 && len(l) != 76) || strings.ContainsAny(l, "\r\n") {
			t.Fatalf("base64 line %d has %d chars", i, len(l))
		}
	}
}

// TestEncryptTamperedGCM shows the tag really authenticates the content: openssl refuses
// AuthEnvelopedData whose ciphertext was changed by one bit.
func TestEncryptTamperedGCM(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	p := newTestPKI(t)
	tmpl := p.smimeTemplate("alice@example.org")
	tmpl.ExtraExtensions = []pkix.Extension{capabilitiesExtension(t, testAES256GCM)}
	rcpt := p.issue(t, "gcm", rsaKey(t, 2048), tmpl)
	out, _, err := Encrypt([]byte(testEntity), Recipient{Cert: rcpt.cert}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Control: the untouched message decrypts, so the failure below is the tag's doing.
	runOpenSSL(t, wrapMessage(out), "cms", "-decrypt", "-recip", rcpt.certPath, "-inkey", rcpt.keyPath)
	_, body, _ := bytes.Cut(out, []byte("\r\n\r\n"))
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-gcmICVLen-4] ^= 1 // inside the ciphertext, just before the mac
	msg := wrapMessage(p7mEntity("authEnveloped-data", der))
	cmd := exec.Command("openssl", "cms", "-decrypt", "-recip", rcpt.certPath, "-inkey", rcpt.keyPath)
	cmd.Stdin = bytes.NewReader(msg)
	if out, err := cmd.Output(); err == nil {
		t.Fatalf("openssl decrypted tampered content: %q", out)
	}
}

// TestEncryptCanonicalisesLF checks that bare LF input is sent as CRLF (RFC 8551 3.1.1).
func TestEncryptCanonicalisesLF(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	p := newTestPKI(t)
	rcpt := p.issue(t, "cbc", rsaKey(t, 2048), p.smimeTemplate("alice@example.org"))
	lf := strings.ReplaceAll(testEntity, "\r\n", "\n")
	out, _, err := Encrypt([]byte(lf), Recipient{Cert: rcpt.cert}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := runOpenSSL(t, wrapMessage(out), "cms", "-decrypt", "-recip", rcpt.certPath, "-inkey", rcpt.keyPath)
	if string(plain) != testEntity {
		t.Fatalf("decrypted %q", plain)
	}
}

func TestEncryptErrors(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	rsaRcpt := p.issue(t, "rsa", rsaKey(t, 2048), p.smimeTemplate("alice@example.org"))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edTmpl := p.smimeTemplate("alice@example.org")
	edTmpl.KeyUsage = x509.KeyUsageDigitalSignature
	edRcpt := p.issue(t, "ed", edKey, edTmpl)
	other := rsaKey(t, 2048)

	test := func(name string, entity string, rcpt *x509.Certificate, opts Options, want error) {
		t.Run(name, func(t *testing.T) {
			out, _, err := Encrypt([]byte(entity), Recipient{Cert: rcpt}, opts)
			if err == nil {
				t.Fatalf("no error, got %d bytes", len(out))
			}
			if want != nil && !errors.Is(err, want) {
				t.Fatalf("error %v, want %v", err, want)
			}
			if strings.Contains(err.Error(), "alice@") {
				t.Fatalf("error names the address: %v", err)
			}
		})
	}
	test("no certificate", testEntity, nil, Options{}, nil)
	test("empty entity", "", rsaRcpt.cert, Options{}, nil)
	test("ed25519 recipient", testEntity, edRcpt.cert, Options{}, ErrKeyType)
	test("failing random", testEntity, rsaRcpt.cert, Options{Rand: failingReader{}}, errNoRandom)
	test("signer key mismatch", testEntity, rsaRcpt.cert, Options{Signer: &Signer{Cert: rsaRcpt.cert, Key: other}}, nil)
	test("signer without key", testEntity, rsaRcpt.cert, Options{Signer: &Signer{Cert: rsaRcpt.cert}}, nil)
}

var errNoRandom = errors.New("no randomness")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errNoRandom }
