package pgpmime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Signer is a tenant's OpenPGP signing key with its secret parts unlocked. It is
// immutable after NewSigner and safe for concurrent use.
type Signer struct {
	Fingerprint string // primary key fingerprint, upper-case hex
	entity      *openpgp.Entity
	public      []byte // armored public key
}

// NewSigner unlocks an armored ("PGP PRIVATE KEY BLOCK") or binary secret key with
// passphrase (ignored when the key is not protected). v6 keys are refused: their
// signatures cannot be read by GnuPG 2.2, still the stable version of Debian 12, and a
// signature inside an encrypted message it cannot parse would cost the recipient the
// whole message.
func NewSigner(armoredPrivateKey []byte, passphrase []byte) (*Signer, error) {
	body, err := secretKeyBody(armoredPrivateKey)
	if err != nil {
		return nil, err
	}
	list, err := openpgp.ReadKeyRing(body)
	if err != nil {
		return nil, fmt.Errorf("not a readable OpenPGP secret key (%s)", strings.TrimPrefix(err.Error(), "openpgp: "))
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("expected one signing key, found %d", len(list))
	}
	e := list[0]
	if e.PrivateKey == nil {
		return nil, errors.New("signing key has no secret part")
	}
	if e.PrimaryKey.Version != 4 {
		return nil, fmt.Errorf("v%d signing keys are not supported, only v4", e.PrimaryKey.Version)
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return nil, fmt.Errorf("signing key cannot be unlocked (%s)", strings.TrimPrefix(err.Error(), "openpgp: "))
	}
	cfg := config(time.Time{})
	settle(e, cfg)
	// The zero date skips expiry: whether the key is current is decided per message.
	key, ok := e.SigningKey(time.Time{}, cfg)
	if !ok {
		return nil, errors.New("key has no signing-capable key")
	}
	if key.PrivateKey == nil || key.PrivateKey.Dummy() {
		return nil, errors.New("secret part of the signing key is missing")
	}
	if weak, bits := weakKey(key.PublicKey); weak {
		return nil, fmt.Errorf("signing key too weak: %d bits", bits)
	}
	public, err := armorPublic(e)
	if err != nil {
		return nil, fmt.Errorf("pgpmime: export public signing key: %w", err)
	}
	return &Signer{Fingerprint: fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), entity: e, public: public}, nil
}

func secretKeyBody(data []byte) (io.Reader, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return bytes.NewReader(data), nil
	}
	block, err := armor.Decode(bytes.NewReader(trimmed))
	if err != nil {
		return nil, fmt.Errorf("malformed ASCII armor (%s)", strings.TrimPrefix(err.Error(), "openpgp: "))
	}
	if block.Type != openpgp.PrivateKeyType {
		return nil, fmt.Errorf("armored %q where a private key block was expected", block.Type)
	}
	return block.Body, nil
}

// PublicKey returns the armored public part of the signing key, to publish (for example
// in the tenant's Web Key Directory) so that recipients can verify signatures.
func (s *Signer) PublicKey() []byte {
	return bytes.Clone(s.public)
}

// armorPublic renders the public part of e as ASCII armor. It keeps the CRC24 footer
// that RFC 9580 6.1 would drop: anyone may import the key, GnuPG 2.2 included, which
// misreads armor without it (see Encrypt).
func armorPublic(e *openpgp.Entity) ([]byte, error) {
	var out bytes.Buffer
	w, err := armor.Encode(&out, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
