package pgpmime

import (
	"crypto/rsa"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// TestCheck judges keys made by GnuPG (and one subkey revocation made by go-crypto, as
// GnuPG revokes subkeys only interactively).
func TestCheck(t *testing.T) {
	t.Parallel()
	g := newGPG(t)
	const pat = "pat@patient.example"

	good := g.genKey("Pat <"+pat+">", "future-default", "default", "never")
	// An RSA primary key that encrypts itself, without subkeys.
	rsa := g.genKey("Pat <"+pat+">", "rsa2048", "sign,encr", "never")
	expiring := g.genKey("Pat <"+pat+">", "future-default", "default", "1d")
	revoked := g.genKey("Pat <"+pat+">", "future-default", "default", "never")
	g.revoke(revoked)
	weak := g.genKey("Pat <"+pat+">", "rsa1024", "default", "never")
	signOnly := g.genKey("Pat <"+pat+">", "ed25519", "sign", "never")
	subExpiring := g.genKey("Pat <"+pat+">", "ed25519", "sign", "never")
	g.must(nil, "--quick-add-key", subExpiring, "cv25519", "encr", "1d")
	weakSub := g.genKey("Pat <"+pat+">", "ed25519", "sign", "never")
	g.must(nil, "--quick-add-key", weakSub, "rsa1024", "encr", "never")
	bare := g.genKey(pat, "future-default", "default", "never")
	now := time.Now() // after the keys were made

	tests := []struct {
		name string
		key  []byte
		addr string
		at   time.Time
		want error
	}{
		{"good", g.export(good), pat, now, nil},
		{"good-case-insensitive", g.export(good), "PAT@Patient.EXAMPLE", now, nil},
		{"good-bare-user-id", g.export(bare), pat, now, nil},
		{"good-angle-brackets", g.export(good), "<" + pat + ">", now, nil},
		{"rsa2048-primary-encrypts", g.export(rsa), pat, now, nil},
		{"address-mismatch", g.export(good), "other@patient.example", now, ErrNoUserID},
		{"address-prefix", g.export(good), "at@patient.example", now, ErrNoUserID},
		{"empty-address", g.export(good), "", now, ErrNoUserID},
		{"expiring-still-valid", g.export(expiring), pat, now, nil},
		{"expired", g.export(expiring), pat, now.Add(48 * time.Hour), ErrExpired},
		{"not-yet-valid", g.export(good), pat, now.Add(-48 * time.Hour), ErrExpired},
		{"revoked", g.export(revoked), pat, now, ErrRevoked},
		{"weak-rsa1024", g.export(weak), pat, now, ErrWeak},
		{"weak-encryption-subkey", g.export(weakSub), pat, now, ErrWeak},
		{"sign-only", g.export(signOnly), pat, now, ErrNoEncryptionKey},
		{"subkey-expired", g.export(subExpiring), pat, now.Add(48 * time.Hour), ErrExpired},
		{"subkey-revoked", revokedSubkey(t, now), pat, now, ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := ParseKey(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			err = key.Check(tt.addr, tt.at)
			t.Logf("Check: %v", err)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if err != nil {
				var ke *KeyError
				if !errors.As(err, &ke) || ke.Fingerprint != key.Fingerprint {
					t.Errorf("error %v is not a KeyError for %s", err, key.Fingerprint)
				}
				if strings.Contains(strings.ToLower(err.Error()), "patient.example") {
					t.Errorf("error names the address: %v", err)
				}
				return
			}
			// What Check accepts, Encrypt must manage at the same time.
			if _, _, err := Encrypt([]byte("Content-Type: text/plain\r\n\r\nx\r\n"), key, nil, tt.at); err != nil {
				t.Errorf("Check passed but Encrypt failed: %v", err)
			}
		})
	}
}

// revokedSubkey returns a v4 key whose only encryption subkey is revoked.
func revokedSubkey(t *testing.T, now time.Time) []byte {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return now.Add(-time.Hour) }}
	e, err := openpgp.NewEntity("Pat", "", "pat@patient.example", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Subkeys[0].Revoke(packet.KeySuperseded, "", cfg); err != nil {
		t.Fatal(err)
	}
	return armorEntity(t, e, false)
}

// TestParseKey checks the description of a key against what GnuPG says of it.
func TestParseKey(t *testing.T) {
	t.Parallel()
	g := newGPG(t)
	ed := g.genKey("Pat Example <pat@patient.example>", "future-default", "default", "1d")
	g.must(nil, "--quick-add-uid", ed, "pat.example@patient.example")
	rsa := g.genKey("Robin <robin@patient.example>", "rsa2048", "default", "never")

	key, err := ParseKey(g.must(nil, "--armor", "--export", ed))
	if err != nil {
		t.Fatal(err)
	}
	if key.Fingerprint != ed || key.KeyID != ed[24:] || key.Version != 4 {
		t.Errorf("fingerprint %s key ID %s version %d, want %s", key.Fingerprint, key.KeyID, key.Version, ed)
	}
	if key.Algorithm != "EdDSA" || key.Bits != 255 {
		t.Errorf("algorithm %s %d bits (curve %s)", key.Algorithm, key.Bits, key.Curve)
	}
	wantUIDs := "Pat Example <pat@patient.example>|pat.example@patient.example"
	if got := strings.Join(key.UserIDs, "|"); got != wantUIDs {
		t.Errorf("user IDs %q, want %q", got, wantUIDs)
	}
	if d := key.Expires.Sub(key.Created); d != 24*time.Hour {
		t.Errorf("expires %v after creation, want 24h", d)
	}
	if again, err := ParseKey(key.Bytes()); err != nil || again.Fingerprint != key.Fingerprint {
		t.Errorf("Bytes does not parse back: %v", err)
	}

	key, err = ParseKey(g.export(rsa))
	if err != nil {
		t.Fatal(err)
	}
	if key.Algorithm != "RSA" || key.Bits != 2048 || key.Curve != "" || !key.Expires.IsZero() {
		t.Errorf("rsa key described as %+v", key)
	}

	// Refusals: secret keys, two keys where one is expected, garbage.
	secret := g.must(nil, "--armor", "--export-secret-keys", ed)
	if _, err := ParseKey(secret); err == nil {
		t.Error("armored secret key accepted")
	}
	if _, err := ParseKey(g.must(nil, "--export-secret-keys", ed)); err == nil {
		t.Error("binary secret key accepted")
	}
	if _, err := ParseKey(g.must(nil, "--export", ed, rsa)); err == nil {
		t.Error("two keys accepted as one")
	}
	if _, err := ParseKey([]byte("not a key")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestNewSigner(t *testing.T) {
	t.Parallel()
	now := time.Now()
	pass := []byte("correct horse")
	armored, e := newTenantKey(t, pass, now)
	s, err := NewSigner(armored, pass)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fingerprint != key(t, s.PublicKey()).Fingerprint {
		t.Error("PublicKey is not the signer's key")
	}
	if _, err := NewSigner(armored, []byte("wrong")); err == nil {
		t.Error("wrong passphrase accepted")
	}
	if _, err := NewSigner(armorEntity(t, e, false), nil); err == nil {
		t.Error("public key accepted as signer")
	}
	v6, err := openpgp.NewEntity("Clinic", "", "noreply@clinic.example", &packet.Config{V6Keys: true, Algorithm: packet.PubKeyAlgoEd25519})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(armorEntity(t, v6, true), nil); err == nil {
		t.Error("v6 signing key accepted")
	}
}

func key(t *testing.T, data []byte) *Key {
	t.Helper()
	k, err := ParseKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCheckSizes: finite-field parameters beyond maxBits are refused, before parsing
// verifies any signature.
func TestCheckSizes(t *testing.T) {
	t.Parallel()
	rsaKey := func(bits uint) *packet.PublicKey {
		n := new(big.Int).Lsh(big.NewInt(1), bits-1)
		return packet.NewRSAPublicKey(time.Unix(1_700_000_000, 0), &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537})
	}
	if err := checkSizes(&openpgp.Entity{PrimaryKey: rsaKey(maxBits)}); err != nil {
		t.Errorf("%d bits refused: %v", maxBits, err)
	}
	if err := checkSizes(&openpgp.Entity{PrimaryKey: rsaKey(maxBits + 8)}); err == nil {
		t.Error("oversized primary key accepted")
	}
	e := &openpgp.Entity{PrimaryKey: rsaKey(2048), Subkeys: []openpgp.Subkey{{PublicKey: rsaKey(maxBits * 2)}}}
	if err := checkSizes(e); err == nil {
		t.Error("oversized subkey accepted")
	}
}
