package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// phiText carries a valid SSN and an NPI next to their context words: DLP finds PHI.
const phiText = "Patient SSN: 512-44-6789. Referring provider NPI 1234567893. Results attached."

// secondaryReceiver starts a receiver on another loopback address at the main
// receiver's port (delivery uses one destination port), with a certificate for
// certFor ("" for no STARTTLS), and points domain's MX at it.
func (e *env) secondaryReceiver(ip, domain, certFor string) *devnet.Receiver {
	e.t.Helper()
	opts := devnet.ReceiverOptions{Addr: net.JoinHostPort(ip, itoa(e.rcv.Port())), Hostname: "mx." + domain}
	if certFor != "" {
		cert, err := e.ca.Issue(certFor)
		if err != nil {
			e.t.Fatal(err)
		}
		opts.TLSCert = &cert
	}
	r, err := devnet.StartReceiver(opts)
	if err != nil {
		e.t.Skipf("cannot listen on %s: %v", ip, err)
	}
	e.t.Cleanup(func() { r.Close() })
	e.dns.AddZoneMX(domain, "mx."+domain, net.ParseIP(ip))
	return r
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// gpgRecipient makes an OpenPGP key with GnuPG in a private home and returns the home
// and the armored public key.
func gpgRecipient(t *testing.T, email string) (home string, pub []byte) {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatal("need gpg (scripts/deps.sh installs gnupg)")
	}
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	gpg := func(args ...string) []byte {
		cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return out
	}
	gpg("--quick-gen-key", "Pat <"+email+">", "future-default", "default", "never")
	return home, gpg("--armor", "--export", email)
}

// gpgDecrypt decrypts the armored part of a PGP/MIME message with GnuPG and returns
// the plaintext and the status lines.
func gpgDecrypt(t *testing.T, home string, msg []byte) (plain []byte, status string) {
	t.Helper()
	start := bytes.Index(msg, []byte("-----BEGIN PGP MESSAGE-----"))
	end := bytes.Index(msg, []byte("-----END PGP MESSAGE-----"))
	if start < 0 || end < 0 {
		t.Fatalf("no armored PGP message in:\n%s", msg)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "m.asc")
	os.WriteFile(in, msg[start:end+len("-----END PGP MESSAGE-----")], 0o600)
	var stat bytes.Buffer
	cmd := exec.Command("gpg", "--homedir", home, "--batch", "--status-fd", "2", "--decrypt", in)
	cmd.Stderr = &stat
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg cannot decrypt: %v\n%s", err, stat.String())
	}
	return out, stat.String()
}

// smimeRecipient makes a CA-less self-signed S/MIME certificate for email.
func smimeRecipient(t *testing.T, email string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: email}, EmailAddresses: []string{email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func opensslDecrypt(t *testing.T, msg, certPEM, keyPEM []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"m.eml": msg, "c.pem": certPEM, "k.pem": keyPEM} {
		os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}
	out, err := exec.Command("openssl", "cms", "-decrypt", "-in", filepath.Join(dir, "m.eml"), "-recip", filepath.Join(dir, "c.pem"), "-inkey", filepath.Join(dir, "k.pem")).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -decrypt: %v\n%s", err, out)
	}
	return out
}

func messageTo(r *devnet.Receiver, rcpt string) *devnet.Received {
	for _, m := range r.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, rcpt) {
				return &m
			}
		}
	}
	return nil
}

// TestSecureLineMixedRecipients sends one message with PHI to recipients who can
// receive different things, and checks each gets its own method, that preview and
// delivery agree, and that the encrypted copies open with GnuPG and OpenSSL.
func TestSecureLineMixedRecipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		plain := e.secondaryReceiver("127.0.0.2", "plain.example", "")               // no STARTTLS
		badcert := e.secondaryReceiver("127.0.0.3", "badcert.example", "wrong.test") // certificate for another name

		home, pub := gpgRecipient(t, "pgp@plain.example")
		if s, out := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "pgp@plain.example", "type": "pgp", "key": string(pub)}); s != 201 {
			t.Fatalf("register pgp key: %d %v", s, out)
		}
		certPEM, keyPEM := smimeRecipient(t, "smime@badcert.example")
		if s, out := e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "smime@badcert.example", "type": "smime", "key": string(certPEM)}); s != 201 {
			t.Fatalf("register smime cert: %d %v", s, out)
		}
		msg := map[string]any{"from": "lab@clinic.example", "subject": "Your results",
			"to":   []string{"p@patient.example", "pgp@plain.example", "other@plain.example", "smime@badcert.example", "x@badcert.example"},
			"text": phiText}
		want := map[string]string{"p@patient.example": "tls", "pgp@plain.example": "pgp", "other@plain.example": "portal",
			"smime@badcert.example": "smime", "x@badcert.example": "portal"}

		s, pv := e.do("POST", "/v1/policy/preview", e.key, msg)
		if s != 200 {
			t.Fatalf("preview: %d %v", s, pv)
		}
		if len(pv["dlp"].([]any)) == 0 {
			t.Fatalf("preview found no PHI: %v", pv)
		}
		for _, r := range pv["recipients"].([]any) {
			r := r.(map[string]any)
			if r["method"] != want[r["email"].(string)] {
				t.Errorf("preview %s: method %v, want %s; reasons %v", r["email"], r["method"], want[r["email"].(string)], r["reasons"])
			}
		}
		if plain.Count()+badcert.Count()+e.rcv.Count() != 0 {
			t.Fatal("preview sent something")
		}

		_, res := e.send(e.key, msg)
		m := e.waitFinal(res["id"].(string))
		for _, r := range m["recipients"].([]any) {
			r := r.(map[string]any)
			sec, _ := r["security"].(map[string]any)
			if r["status"] != "delivered" || sec == nil || sec["method"] != want[r["email"].(string)] {
				t.Errorf("%s: status %v security %v, want %s", r["email"], r["status"], sec, want[r["email"].(string)])
			}
		}

		// tls: plaintext content over verified TLS.
		got := messageTo(e.rcv, "p@patient.example")
		if got == nil || got.TLS == nil || !bytes.Contains(got.Data, []byte("512-44-6789")) {
			t.Fatalf("tls copy: %+v", got)
		}
		// pgp: GnuPG decrypts it; the PHI is not visible outside.
		got = messageTo(plain, "pgp@plain.example")
		if got == nil || bytes.Contains(got.Data, []byte("512-44-6789")) || bytes.Contains(got.Data, []byte("Your results")) {
			t.Fatalf("pgp copy missing or leaks content: %+v", got)
		}
		text, status := gpgDecrypt(t, home, got.Data)
		if !strings.Contains(status, "DECRYPTION_OKAY") || !strings.Contains(status, "GOODMDC") || !bytes.Contains(text, []byte("512-44-6789")) ||
			!bytes.Contains(text, []byte("Subject: Your results")) {
			t.Fatalf("gpg: %s\n%s", status, text)
		}
		dkimVerify(t, got.Data, e.dkimTXT)
		// smime: OpenSSL decrypts it.
		got = messageTo(badcert, "smime@badcert.example")
		if got == nil || bytes.Contains(got.Data, []byte("512-44-6789")) {
			t.Fatalf("smime copy missing or leaks: %+v", got)
		}
		if text := opensslDecrypt(t, got.Data, certPEM, keyPEM); !bytes.Contains(text, []byte("512-44-6789")) {
			t.Fatalf("openssl output lacks the content:\n%s", text)
		}
		// portal: a notification without PHI, carrying a link.
		for _, addr := range []string{"other@plain.example", "x@badcert.example"} {
			r := plain
			if strings.HasSuffix(addr, "badcert.example") {
				r = badcert
			}
			got = messageTo(r, addr)
			if got == nil || bytes.Contains(got.Data, []byte("512-44-6789")) || bytes.Contains(got.Data, []byte("Your results")) ||
				!bytes.Contains(got.Data, []byte("/p/")) {
				t.Fatalf("portal notification to %s missing or leaks: %+v", addr, got)
			}
		}
		var portals int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM portal_messages WHERE message_id = $1", res["id"]).Scan(&portals)
		if portals != 2 {
			t.Errorf("portal copies: %d, want 2", portals)
		}
		// Every recipient has a secured event with evidence.
		secured := map[string]bool{}
		for _, ev := range e.events("message=" + res["id"].(string)) {
			if ev["type"] == "secured" {
				secured[ev["recipient_id"].(string)] = true
			}
		}
		if len(secured) != 5 {
			t.Errorf("secured events for %d recipients, want 5", len(secured))
		}
	})
}

// TestRecipientDomainPoliciesNeverDowngrade checks the receiving side's own demands:
// an MTA-STS "enforce" domain whose MX presents a wrong certificate gets nothing in
// plaintext (not even the portal notice), and a DANE TLSA mismatch defers.
func TestRecipientDomainPoliciesNeverDowngrade(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{dnssec: true, retry: []string{"1h"}})
	sts := e.secondaryReceiver("127.0.0.2", "sts.example", "wrong.test")
	e.dns.AddTXT("_mta-sts.sts.example", "v=STSv1; id=20261123")
	e.sts.SetPolicy("sts.example", "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.example\r\nmax_age: 86400\r\n")

	dane := e.secondaryReceiver("127.0.0.3", "dane.example", "mx.dane.example")
	e.dns.SetAuthenticated("dane.example")
	e.dns.AddTLSA("_"+itoa(e.rcv.Port())+"._tcp.mx.dane.example", 3, 1, 1, bytes.Repeat([]byte{0xAB}, 32)) // matches nothing

	s, pv := e.do("GET", "/v1/domains/dane.example/security", e.key, nil)
	if s != 200 || pv["verified_tls"] != false || !strings.Contains(toJSON(pv), "mismatch") {
		t.Fatalf("dane.example security: %d %v", s, pv)
	}
	s, pv = e.do("GET", "/v1/domains/sts.example/security", e.key, nil)
	if s != 200 || pv["mta_sts"] != "enforce" || pv["verified_tls"] != false {
		t.Fatalf("sts.example security: %d %v", s, pv)
	}
	_, res := e.send(e.key, map[string]any{"from": "lab@clinic.example", "to": []string{"a@sts.example", "b@dane.example"}, "subject": "Results", "text": phiText})
	id := res["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m := e.do("GET", "/v1/messages/"+id, e.key, nil)
		deferred := 0
		for _, r := range m["recipients"].([]any) {
			if r.(map[string]any)["status"] == "deferred" {
				deferred++
			}
		}
		if deferred == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not deferred: %v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if sts.Count() != 0 || dane.Count() != 0 {
		t.Fatalf("delivered despite the domain's policy: sts %d, dane %d", sts.Count(), dane.Count())
	}
}

// TestSandboxRecordsTheMethod: a sandbox key's messages are secured on paper — the
// secured event names the method — and nothing is sent.
func TestSandboxRecordsTheMethod(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	_, out := e.do("POST", "/v1/keys", e.key, map[string]any{"name": "sb", "scopes": []string{"admin"}, "sandbox": true})
	_, res := e.send(out["secret"].(string), map[string]any{"from": "a@clinic.example", "to": "p@patient.example", "subject": "s", "text": phiText})
	e.waitFinal(res["id"].(string))
	var method string
	for _, ev := range e.events("message=" + res["id"].(string)) {
		if ev["type"] == "secured" {
			method, _ = ev["data"].(map[string]any)["method"].(string)
			if ev["sandbox"] != true {
				t.Error("secured event lacks the sandbox marker")
			}
		}
	}
	if method != "tls" || e.rcv.Count() != 0 {
		t.Fatalf("sandbox: method %q, delivered %d", method, e.rcv.Count())
	}
}

// TestSigningKeysSignEncryptedCopies sets the clinic's own OpenPGP and S/MIME signing
// keys: encrypted copies are signed inside, and GnuPG and OpenSSL verify the signatures.
func TestSigningKeysSignEncryptedCopies(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), envOptions{})
	plain := e.secondaryReceiver("127.0.0.2", "plain.example", "")
	home, pub := gpgRecipient(t, "pgp@plain.example")
	e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "pgp@plain.example", "type": "pgp", "key": string(pub)})
	rcptCert, rcptKey := smimeRecipient(t, "smime@plain.example")
	e.do("POST", "/v1/recipient-keys", e.key, map[string]any{"email": "smime@plain.example", "type": "smime", "key": string(rcptCert)})

	// The clinic's OpenPGP key, made by GnuPG; its public half goes to the recipient.
	clinicHome, clinicPub := gpgRecipient(t, "lab@clinic.example")
	secret, err := exec.Command("gpg", "--homedir", clinicHome, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", "lab@clinic.example").Output()
	if err != nil {
		t.Fatal(err)
	}
	imp := exec.Command("gpg", "--homedir", home, "--batch", "--import")
	imp.Stdin = bytes.NewReader(clinicPub)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	if s, p := e.do("PUT", "/v1/signing-keys/pgp", e.key, map[string]any{"private_key": string(secret)}); s != 200 || p["fingerprint"] == "" {
		t.Fatalf("pgp signing key: %d %v", s, p)
	}
	signerCert, signerKey := smimeRecipient(t, "lab@clinic.example")
	if s, p := e.do("PUT", "/v1/signing-keys/smime", e.key, map[string]any{"private_key": string(rcptKey), "certificate": string(signerCert)}); s != 422 {
		t.Fatalf("mismatched S/MIME key accepted: %d %v", s, p)
	}
	if s, p := e.do("PUT", "/v1/signing-keys/smime", e.key, map[string]any{"private_key": string(signerKey), "certificate": string(signerCert)}); s != 200 {
		t.Fatalf("smime signing key: %d %v", s, p)
	}
	_, other := e.addTenant("other", "other.example")
	if _, p := e.do("GET", "/v1/signing-keys", other, nil); len(p["keys"].([]any)) != 0 {
		t.Fatal("another tenant sees signing keys")
	}
	if _, p := e.do("GET", "/v1/signing-keys", e.key, nil); len(p["keys"].([]any)) != 2 || strings.Contains(toJSON(p), "PRIVATE") {
		t.Fatalf("signing keys listed: %v", p)
	}

	_, res := e.send(e.key, map[string]any{"from": "lab@clinic.example", "to": []string{"pgp@plain.example", "smime@plain.example"}, "subject": "Results", "text": phiText})
	e.waitFinal(res["id"].(string))
	got := messageTo(plain, "pgp@plain.example")
	if got == nil {
		t.Fatal("no pgp copy")
	}
	if _, status := gpgDecrypt(t, home, got.Data); !strings.Contains(status, "GOODSIG") || !strings.Contains(status, "GOODMDC") {
		t.Fatalf("gpg status lacks GOODSIG:\n%s", status)
	}
	got = messageTo(plain, "smime@plain.example")
	if got == nil {
		t.Fatal("no smime copy")
	}
	signed := opensslDecrypt(t, got.Data, rcptCert, rcptKey)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.eml"), signed, 0o600)
	os.WriteFile(filepath.Join(dir, "ca.pem"), signerCert, 0o600)
	out, err := exec.Command("openssl", "cms", "-verify", "-in", filepath.Join(dir, "s.eml"), "-CAfile", filepath.Join(dir, "ca.pem"), "-purpose", "any").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification successful") || !strings.Contains(string(out), "512-44-6789") {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
}
