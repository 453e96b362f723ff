package pgpmime

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// TestEncryptGPGDecrypts encrypts with our code and decrypts with GnuPG 2.2: the
// plaintext must come back byte for byte, protected by an MDC, and signatures must verify.
func TestEncryptGPGDecrypts(t *testing.T) {
	t.Parallel()
	g := newGPG(t)
	x25519 := g.genKey("Pat <pat@patient.example>", "future-default", "default", "never")
	rsa := g.genKey("Robin <robin@patient.example>", "rsa2048", "sign", "never")
	g.must(nil, "--quick-add-key", rsa, "rsa2048", "encr", "never")

	pass := []byte("tenant passphrase")
	now := time.Now()
	tenantKey, _ := newTenantKey(t, pass, now.Add(-time.Hour))
	signer, err := NewSigner(tenantKey, pass)
	if err != nil {
		t.Fatal(err)
	}
	g.must(signer.PublicKey(), "--import")

	test := func(name, fpr, addr string, signer *Signer, entity []byte) {
		t.Run(name, func(t *testing.T) {
			key, err := ParseKey(g.export(fpr))
			if err != nil {
				t.Fatal(err)
			}
			if err := key.Check(addr, now); err != nil {
				t.Fatalf("Check: %v", err)
			}
			out, info, err := Encrypt(entity, key, signer, now)
			if err != nil {
				t.Fatal(err)
			}
			if info.Fingerprint != fpr || info.AEAD || info.Signed != (signer != nil) {
				t.Errorf("info = %+v", info)
			}
			armored := encryptedPart(t, out, true)
			status, plaintext := g.decrypt(armored)
			for _, want := range []string{"[GNUPG:] DECRYPTION_OKAY", "[GNUPG:] GOODMDC", "[GNUPG:] DECRYPTION_INFO 2 9"} {
				if !strings.Contains(status, want) {
					t.Errorf("status lacks %q:\n%s", want, status)
				}
			}
			if signer != nil {
				for _, want := range []string{"[GNUPG:] GOODSIG " + signer.Fingerprint[24:], "[GNUPG:] VALIDSIG "} {
					if !strings.Contains(status, want) {
						t.Errorf("status lacks %q:\n%s", want, status)
					}
				}
				if !strings.Contains(status, signer.Fingerprint) {
					t.Errorf("status does not name the signing key %s:\n%s", signer.Fingerprint, status)
				}
			}
			if !bytes.Equal(plaintext, entity) {
				t.Errorf("plaintext differs from the entity:\n got %q\nwant %q", plaintext, entity)
			}
		})
	}
	entity := testEntity(10 << 10)
	test("x25519", x25519, "pat@patient.example", nil, entity)
	// GnuPG 2.2 reads armor differently by data length modulo 3; cover every residue.
	test("x25519-len+1", x25519, "pat@patient.example", nil, append(bytes.Clone(entity), '.'))
	test("x25519-len+2", x25519, "pat@patient.example", nil, append(bytes.Clone(entity), '.', '.'))
	test("x25519-signed", x25519, "pat@patient.example", signer, entity)
	test("rsa2048", rsa, "robin@patient.example", nil, entity)
	test("rsa2048-signed", rsa, "robin@patient.example", signer, testEntity(300))
}

// encryptedPart checks out as the RFC 3156 4 structure under outer headers, the way the
// queue sends it, and returns the armored message of its second part.
func encryptedPart(t *testing.T, entity []byte, wantCRC bool) []byte {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(entity, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("entity has bare LF line ends")
	}
	full := "From: Clinic <noreply@clinic.example>\r\nTo: <pat@patient.example>\r\n" +
		"Subject: ...\r\nMIME-Version: 1.0\r\n" + string(entity)
	msg, err := mail.ReadMessage(strings.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if mt != "multipart/encrypted" || params["protocol"] != "application/pgp-encrypted" {
		t.Fatalf("Content-Type %q %v", mt, params)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	part := func(wantType string) []byte {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Fatalf("part Content-Type %q, want %s", ct, wantType)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	if v := part("application/pgp-encrypted"); string(v) != "Version: 1\r\n" {
		t.Errorf("control part %q", v)
	}
	armored := part(`application/octet-stream; name="encrypted.asc"`)
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
	if !bytes.HasPrefix(armored, []byte("-----BEGIN PGP MESSAGE-----\r\n")) ||
		!bytes.HasSuffix(armored, []byte("\r\n-----END PGP MESSAGE-----\r\n")) {
		t.Errorf("second part is not an armored message:\n%s", armored)
	}
	// RFC 9580 6.1: the "=XXXX" CRC24 line before the footer is kept only for readers
	// of SEIPDv1, GnuPG 2.2 among them.
	lines := strings.Split(strings.TrimSpace(string(armored)), "\r\n")
	last := lines[len(lines)-2]
	if hasCRC := len(last) == 5 && last[0] == '='; hasCRC != wantCRC {
		t.Errorf("CRC24 footer present %v, want %v", hasCRC, wantCRC)
	}
	return armored
}

// TestEncryptAEAD: a key that advertises SEIPDv2 gets AEAD, one that does not gets
// SEIPDv1 with MDC. GnuPG 2.2 cannot read SEIPDv2, so go-crypto decrypts here.
func TestEncryptAEAD(t *testing.T) {
	t.Parallel()
	now := time.Now()
	test := func(name string, cfg *packet.Config, wantAEAD bool) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg.Time = func() time.Time { return now.Add(-time.Minute) }
			priv, err := openpgp.NewEntity("Pat", "", "pat@patient.example", cfg)
			if err != nil {
				t.Fatal(err)
			}
			key, err := ParseKey(armorEntity(t, priv, false))
			if err != nil {
				t.Fatal(err)
			}
			entity := testEntity(2000)
			out, info, err := Encrypt(entity, key, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if info.AEAD != wantAEAD {
				t.Errorf("Info.AEAD = %v, want %v", info.AEAD, wantAEAD)
			}
			armored := encryptedPart(t, out, !wantAEAD)
			if v := seipdVersion(t, armored); v != map[bool]int{false: 1, true: 2}[wantAEAD] {
				t.Errorf("SEIPD version %d", v)
			}
			block, err := armor.Decode(bytes.NewReader(armored))
			if err != nil {
				t.Fatal(err)
			}
			md, err := openpgp.ReadMessage(block.Body, openpgp.EntityList{priv}, nil, &packet.Config{Time: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(md.UnverifiedBody)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, entity) {
				t.Error("plaintext differs")
			}
		})
	}
	test("v4", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, false)
	test("v4-seipdv2", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, AEADConfig: &packet.AEADConfig{}}, true)
	test("v6", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519, AEADConfig: &packet.AEADConfig{}}, true)
}

// seipdVersion returns the version of the encrypted data packet in an armored message.
func seipdVersion(t *testing.T, armored []byte) int {
	t.Helper()
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	r := packet.NewReader(block.Body)
	for {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("no encrypted data packet: %v", err)
		}
		if se, ok := p.(*packet.SymmetricallyEncrypted); ok {
			if !se.IntegrityProtected {
				t.Error("encrypted data without integrity protection")
			}
			return se.Version
		}
	}
}

func TestEncryptRejects(t *testing.T) {
	t.Parallel()
	now := time.Now()
	priv, err := openpgp.NewEntity("Pat", "", "pat@patient.example", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return now.Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseKey(armorEntity(t, priv, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Encrypt(nil, key, nil, now); err == nil {
		t.Error("empty entity accepted")
	}
	if _, _, err := Encrypt([]byte("x"), nil, nil, now); err == nil {
		t.Error("nil key accepted")
	}
	if _, _, err := Encrypt([]byte("x"), key, nil, time.Time{}); err == nil {
		t.Error("zero time accepted")
	}
	// Before the key existed there is no valid encryption key.
	if _, _, err := Encrypt([]byte("x"), key, nil, now.Add(-48*time.Hour)); err == nil {
		t.Error("encrypted to a key not yet valid")
	}
}

func TestCanonicalCRLF(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":             "",
		"a\r\nb\r\n":   "a\r\nb\r\n",
		"a\nb\n":       "a\r\nb\r\n",
		"a\rb\r\n\n":   "a\r\nb\r\n\r\n",
		"\n":           "\r\n",
		"x\r":          "x\r\n",
		"mixed\r\n\nz": "mixed\r\n\r\nz",
	} {
		if got := string(canonicalCRLF([]byte(in))); got != want {
			t.Errorf("canonicalCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEncryptConcurrent shares one Key and one Signer between goroutines, as the queue
// workers do; run with -race it shows that nothing is written after parsing.
func TestEncryptConcurrent(t *testing.T) {
	t.Parallel()
	now := time.Now()
	priv, err := openpgp.NewEntity("Pat", "", "pat@patient.example", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return now.Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseKey(armorEntity(t, priv, false))
	if err != nil {
		t.Fatal(err)
	}
	tenant, _ := newTenantKey(t, nil, now.Add(-time.Hour))
	signer, err := NewSigner(tenant, nil)
	if err != nil {
		t.Fatal(err)
	}
	entity := testEntity(1000)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			at := now.Add(time.Duration(i) * time.Minute)
			if err := key.Check("pat@patient.example", at); err != nil {
				errs <- err
				return
			}
			_, _, err := Encrypt(entity, key, signer, at)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
