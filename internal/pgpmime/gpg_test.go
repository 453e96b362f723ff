package pgpmime

import (
	"bytes"
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// gpgHome is a GnuPG home of its own for one test, the independent party that generates
// recipient keys and decrypts what Encrypt produced.
type gpgHome struct {
	t   testing.TB
	dir string
}

func newGPG(t testing.TB) *gpgHome {
	t.Helper()
	for _, tool := range []string{"gpg", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: scripts/deps.sh installs it (package gnupg)", tool)
		}
	}
	dir := filepath.Join(t.TempDir(), "gnupg")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Registered after TempDir's removal, so it runs first: stop the agent this home
	// started, and only that one.
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", dir, "--kill", "gpg-agent").Run()
	})
	return &gpgHome{t: t, dir: dir}
}

// run runs gpg in this home and returns stdout and stderr.
func (g *gpgHome) run(stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	base := []string{"--homedir", g.dir, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""}
	cmd := exec.Command("gpg", append(base, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

func (g *gpgHome) must(stdin []byte, args ...string) []byte {
	g.t.Helper()
	out, errb, err := g.run(stdin, args...)
	if err != nil {
		g.t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, errb)
	}
	return out
}

// genKey makes a key with --quick-gen-key and returns its fingerprint.
func (g *gpgHome) genKey(uid, algo, usage, expire string) string {
	g.t.Helper()
	// --yes: several keys may share a user ID.
	status := g.must(nil, "--yes", "--status-fd", "1", "--quick-gen-key", uid, algo, usage, expire)
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[1] == "KEY_CREATED" {
			return f[3]
		}
	}
	g.t.Fatalf("gpg --quick-gen-key: no KEY_CREATED in %q", status)
	return ""
}

// export returns the binary public key fpr.
func (g *gpgHome) export(fpr string) []byte {
	g.t.Helper()
	return g.must(nil, "--export", fpr)
}

// revoke applies the revocation certificate GnuPG stored when it generated fpr.
func (g *gpgHome) revoke(fpr string) {
	g.t.Helper()
	cert, err := os.ReadFile(filepath.Join(g.dir, "openpgp-revocs.d", fpr+".rev"))
	if err != nil {
		g.t.Fatal(err)
	}
	// GnuPG disarms the stored certificate with a leading colon.
	cert = bytes.Replace(cert, []byte(":-----BEGIN"), []byte("-----BEGIN"), 1)
	g.must(cert, "--import")
}

// decrypt runs gpg --decrypt on an armored message and returns the status lines and
// the plaintext, written to a file in the test's own directory.
func (g *gpgHome) decrypt(armored []byte) (status string, plaintext []byte) {
	g.t.Helper()
	outFile := filepath.Join(g.dir, "plaintext.out")
	_ = os.Remove(outFile)
	out, errb, err := g.run(armored, "--status-fd", "1", "--output", outFile, "--decrypt")
	if err != nil {
		g.t.Fatalf("gpg --decrypt: %v\nstatus:\n%s\nstderr:\n%s", err, out, errb)
	}
	if bytes.Contains(errb, []byte("CRC")) {
		g.t.Errorf("gpg complained about the armor: %s", errb)
	}
	plaintext, err = os.ReadFile(outFile)
	if err != nil {
		g.t.Fatal(err)
	}
	return string(out), plaintext
}

// newTenantKey generates a v4 Ed25519 signing key with go-crypto, the way a tenant key
// would be made, and returns it armored and protected by passphrase, with the entity.
func newTenantKey(t testing.TB, passphrase []byte, now time.Time) ([]byte, *openpgp.Entity) {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256, Time: func() time.Time { return now }}
	e, err := openpgp.NewEntity("Clinic", "", "noreply@clinic.example", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EncryptPrivateKeys(passphrase, cfg); err != nil {
		t.Fatal(err)
	}
	return armorEntity(t, e, true), e
}

// armorEntity armors e, with its secret parts when private is set.
func armorEntity(t testing.TB, e *openpgp.Entity, private bool) []byte {
	t.Helper()
	var b bytes.Buffer
	blockType := openpgp.PublicKeyType
	if private {
		blockType = openpgp.PrivateKeyType
	}
	w, err := armor.Encode(&b, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if private {
		err = e.SerializePrivateWithoutSigning(w, nil)
	} else {
		err = e.Serialize(w)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testEntity returns a CRLF MIME entity of about size bytes, with 8-bit text in it.
func testEntity(size int) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	line := "Ihre Befunde sind da: Hämoglobin 14,2 g/dl, alles im Normbereich.\r\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	return b.Bytes()
}
