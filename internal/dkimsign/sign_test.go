package dkimsign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// testMessage has LF line ends, folding and odd whitespace, all of which
// the signature must survive once the message is sent as CRLF.
const testMessage = "From: Alice <alice@example.com>\n" +
	"To: Bob <bob@example.net>\n" +
	"Subject: Lab results\n\tfor review\n" +
	"Date: Tue, 03 Mar 2026 10:00:00 +0000\n" +
	"Message-ID: <1@example.com>\n" +
	"MIME-Version: 1.0\n" +
	"Content-Type: text/plain; charset=utf-8\n" +
	"\n" +
	"Hello Bob,  \n\nthe results are in.\n\n\n"

// goVerify checks signed with go-msgauth's verifier against one TXT record.
func goVerify(signed []byte, name, record string) error {
	return verifyWith(signed, func(domain string) ([]string, error) {
		if strings.EqualFold(strings.TrimSuffix(domain, "."), name) {
			return []string{record}, nil
		}
		return nil, errors.New("no such record")
	})
}

// verifyWith runs go-msgauth's verifier and requires every signature to
// pass.
func verifyWith(signed []byte, lookup func(string) ([]string, error)) error {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		return err
	}
	if len(verifs) == 0 {
		return errors.New("no signature found")
	}
	for _, v := range verifs {
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}

// pythonVerify checks the first signature with Debian's python3-dkim, an
// implementation independent of the one we sign with. It runs the system
// interpreter with a clean environment so a pyenv on PATH cannot interfere.
func pythonVerify(t *testing.T, signed []byte, name, record string) bool {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import dkim, nacl").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-dkim is required in CI (apt-get install python3-dkim): %v\n%s", err, out)
		}
		t.Skipf("python3-dkim not available: %v", err)
	}
	const script = `
import os, sys, dkim
want = os.environ["DKIM_NAME"].encode()
def dnsfunc(name, timeout=5):
    if name.rstrip(b".").lower() != want:
        return None
    return os.environ["DKIM_TXT"].encode()
sys.exit(0 if dkim.verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc) else 3)
`
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", script)
	cmd.Stdin = bytes.NewReader(signed)
	cmd.Env = []string{"DKIM_NAME=" + strings.ToLower(name), "DKIM_TXT=" + record, "PYTHONNOUSERSITE=1"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return false
	}
	if err != nil {
		t.Fatalf("python verifier: %v\n%s", err, out)
	}
	return true
}

// onlyReader hides any io.Seeker so Sign takes its buffering path.
type onlyReader struct{ io.Reader }

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	// "rsa-engine" signs through Accelerate: OpenSSL where this build can reach it.
	for _, variant := range []string{"rsa", "rsa-engine", "ed25519"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			algo := strings.TrimSuffix(variant, "-engine")
			key, err := GenerateKey(algo)
			if err != nil {
				t.Fatal(err)
			}
			if variant == "rsa-engine" {
				key = Accelerate(key)
			}
			name, record, err := DNSRecord("s1", "Example.COM.", key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if name != "s1._domainkey.example.com" || !strings.HasPrefix(record, "v=DKIM1; k="+algo+"; p=") {
				t.Fatalf("record %s: %s", name, record)
			}
			s := &Signer{Domain: "example.com", Selector: "s1", Key: key}

			var seeked, buffered bytes.Buffer
			if err := s.Sign(&seeked, strings.NewReader(testMessage)); err != nil {
				t.Fatal(err)
			}
			if err := s.Sign(&buffered, onlyReader{strings.NewReader(testMessage)}); err != nil {
				t.Fatal(err)
			}
			header, err := s.SignedHeader(strings.NewReader(testMessage))
			if err != nil {
				t.Fatal(err)
			}
			crlf := strings.ReplaceAll(testMessage, "\n", "\r\n")
			for label, signed := range map[string][]byte{
				"seeker": seeked.Bytes(), "buffered": buffered.Bytes(), "header": []byte(header + crlf),
			} {
				if err := goVerify(signed, name, record); err != nil {
					t.Errorf("%s: go verifier: %v\n%s", label, err, signed)
				}
				if !bytes.HasSuffix(signed, []byte(crlf)) || bytes.Contains(bytes.ReplaceAll(signed, []byte("\r\n"), nil), []byte("\n")) {
					t.Errorf("%s: output not CRLF-normalised", label)
				}
			}
			sig := header[:strings.Index(header, "b=")]
			sig = strings.Join(strings.Fields(sig), " ")
			for _, want := range []string{"a=" + algo + "-sha256;", "c=relaxed/relaxed;", "d=example.com;", "s=s1;", " t=",
				"h=From:Reply-To:Subject:Date:To:Cc:Message-ID:In-Reply-To:References:MIME-Version:Content-Type:Content-Transfer-Encoding:From:List-Unsubscribe:List-Unsubscribe-Post;"} {
				if !strings.Contains(sig, want) {
					t.Errorf("signature lacks %q: %s", want, sig)
				}
			}

			signed := seeked.Bytes()
			if !pythonVerify(t, signed, name, record) {
				t.Fatalf("python3-dkim rejected the signature:\n%s", signed)
			}
			// Relaxed canonicalisation tolerates whitespace changes...
			refolded := bytes.Replace(signed, []byte("Subject: Lab results\r\n\tfor review"), []byte("Subject:   Lab results for    review"), 1)
			if err := goVerify(refolded, name, record); err != nil {
				t.Errorf("refolded subject: %v", err)
			}
			// ...but not changed content, nor a second From (over-signing).
			tampered := bytes.Replace(signed, []byte("results are in"), []byte("results are out"), 1)
			extraFrom := bytes.Replace(signed, []byte("From: Alice"), []byte("From: Mallory <m@evil.test>\r\nFrom: Alice"), 1)
			for label, bad := range map[string][]byte{"body": tampered, "extra From": extraFrom} {
				if goVerify(bad, name, record) == nil {
					t.Errorf("%s: go verifier accepted a modified message", label)
				}
			}
			if pythonVerify(t, tampered, name, record) {
				t.Error("python3-dkim accepted a modified body")
			}
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	for _, algo := range []string{"rsa", "ed25519"} {
		key, err := GenerateKey(algo)
		if err != nil {
			t.Fatal(err)
		}
		pemBytes, err := MarshalPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePrivateKey(pemBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !back.(interface{ Equal(crypto.PrivateKey) bool }).Equal(key) {
			t.Errorf("%s: key changed in PEM round trip", algo)
		}
	}
	rsaKey, _ := GenerateKey("rsa")
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))})
	if k, err := ParsePrivateKey(pkcs1); err != nil || !k.(*rsa.PrivateKey).Equal(rsaKey) {
		t.Errorf("PKCS#1 key: %v", err)
	}

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	if _, err := ParsePrivateKey(ecPEM); err == nil {
		t.Error("ECDSA key accepted")
	}
	if _, err := MarshalPrivateKey(ecKey); err == nil {
		t.Error("ECDSA key marshalled")
	}
	if _, _, err := DNSRecord("s", "example.com", ecKey.Public()); err == nil {
		t.Error("DNS record for an ECDSA key")
	}
	for _, bad := range [][]byte{nil, []byte("not pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})} {
		if _, err := ParsePrivateKey(bad); err == nil {
			t.Errorf("ParsePrivateKey(%q) succeeded", bad)
		}
	}
	if _, err := GenerateKey("dsa"); err == nil {
		t.Error("unknown algorithm accepted")
	}
	if err := (&Signer{Domain: "example.com", Key: rsaKey}).Sign(io.Discard, strings.NewReader(testMessage)); err == nil {
		t.Error("Sign without a selector succeeded")
	}
}
