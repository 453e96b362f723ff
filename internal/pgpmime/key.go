package pgpmime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Key is a recipient's OpenPGP public key (a transferable public key, RFC 9580 10.1).
// Its fields describe the primary key. A Key is immutable and safe for concurrent use.
type Key struct {
	Fingerprint string    // primary key fingerprint, upper-case hex
	KeyID       string    // primary key ID, upper-case hex (16 digits)
	Version     int       // key packet version: 4 or 6 (5 is not accepted)
	UserIDs     []string  // user IDs with a valid self-certification, sorted
	Algorithm   string    // primary key algorithm, e.g. "RSA", "EdDSA", "Ed25519"
	Curve       string    // elliptic curve of the primary key, "" for RSA, DSA, ElGamal
	Bits        int       // modulus size, or the curve's size for elliptic curves
	Created     time.Time // creation time of the primary key
	Expires     time.Time // expiry of the primary key by its newest self-signature; zero: never

	entity *openpgp.Entity
	raw    []byte // binary serialisation of entity
}

// ParseKey reads exactly one public key, armored ("PGP PUBLIC KEY BLOCK") or binary.
// Secret keys are refused so that a tenant's private key can never be stored as a
// recipient key by mistake.
func ParseKey(data []byte) (*Key, error) {
	keys, err := parseKeys(data)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("expected one key, found %d", len(keys))
	}
	return keys[0], nil
}

// parseKeys reads one or more concatenated public keys, the form a Web Key Directory may
// serve (a current key with older, revoked ones).
func parseKeys(data []byte) (keys []*Key, err error) {
	// go-crypto is not hardened against every malformed input; a panic on hostile key
	// material from the network must not take the worker down.
	defer func() {
		if r := recover(); r != nil {
			keys, err = nil, errors.New("malformed OpenPGP key")
		}
	}()
	body, err := keyBody(data)
	if err != nil {
		return nil, err
	}
	list, err := openpgp.ReadKeyRing(body)
	if err != nil {
		return nil, fmt.Errorf("not a readable OpenPGP public key (%s)", strings.TrimPrefix(err.Error(), "openpgp: "))
	}
	if len(list) == 0 {
		return nil, errors.New("no OpenPGP key found")
	}
	cfg := config(time.Time{})
	for _, e := range list {
		if e.PrivateKey != nil {
			return nil, errors.New("this is a secret key; send the public key")
		}
		if e.PrimaryKey.Version == 5 {
			// LibrePGP v5 keys are not part of RFC 9580; nothing we deliver to uses them.
			return nil, errors.New("v5 OpenPGP keys are not supported")
		}
		if err := checkSizes(e); err != nil {
			return nil, err
		}
		settle(e, cfg)
		k := newKey(e, cfg)
		var raw bytes.Buffer
		if err := e.Serialize(&raw); err != nil {
			return nil, fmt.Errorf("pgpmime: serialize key: %w", err)
		}
		k.raw = raw.Bytes()
		keys = append(keys, k)
	}
	return keys, nil
}

// maxBits bounds RSA, DSA and ElGamal keys. Their self-signatures are verified when a
// key is parsed, and a hostile key of many thousand bits (a Web Key Directory may serve
// up to 64 KiB) would make that verification take seconds. GnuPG makes at most 4096.
const maxBits = 8192

// checkSizes refuses keys with finite-field parameters larger than maxBits.
func checkSizes(e *openpgp.Entity) error {
	pks := []*packet.PublicKey{e.PrimaryKey}
	for _, sub := range e.Subkeys {
		pks = append(pks, sub.PublicKey)
	}
	for _, pk := range pks {
		switch pk.PubKeyAlgo {
		case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSAEncryptOnly, packet.PubKeyAlgoRSASignOnly,
			packet.PubKeyAlgoDSA, packet.PubKeyAlgoElGamal:
			if n, err := pk.BitLength(); err != nil || n > maxBits {
				return fmt.Errorf("%s key of %d bits exceeds %d", algorithmName(pk.PubKeyAlgo), n, maxBits)
			}
		}
	}
	return nil
}

// keyBody returns a reader over the binary packets in data, removing ASCII armor
// (RFC 9580 6.2) when present.
func keyBody(data []byte) (io.Reader, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return bytes.NewReader(data), nil
	}
	block, err := armor.Decode(bytes.NewReader(trimmed))
	if err != nil {
		return nil, fmt.Errorf("malformed ASCII armor (%s)", strings.TrimPrefix(err.Error(), "openpgp: "))
	}
	if block.Type != openpgp.PublicKeyType {
		return nil, fmt.Errorf("armored %q where a public key block was expected", block.Type)
	}
	return block.Body, nil
}

func newKey(e *openpgp.Entity, cfg *packet.Config) *Key {
	pk := e.PrimaryKey
	k := &Key{
		Fingerprint: fmt.Sprintf("%X", pk.Fingerprint),
		KeyID:       fmt.Sprintf("%016X", pk.KeyId),
		Version:     pk.Version,
		Algorithm:   algorithmName(pk.PubKeyAlgo),
		Created:     pk.CreationTime,
		entity:      e,
	}
	k.Curve, k.Bits = keySize(pk)
	for name, id := range e.Identities {
		if _, err := id.Verify(time.Time{}, cfg); err == nil {
			k.UserIDs = append(k.UserIDs, name)
		}
	}
	sort.Strings(k.UserIDs)
	// The zero date selects the newest valid self-signature without judging expiry.
	if sig, err := e.PrimarySelfSignature(time.Time{}, cfg); err == nil {
		k.Expires = expiry(pk, sig)
	}
	if sig, err := e.LatestValidDirectSignature(time.Time{}, cfg); err == nil {
		if t := expiry(pk, sig); !t.IsZero() && (k.Expires.IsZero() || t.Before(k.Expires)) {
			k.Expires = t
		}
	}
	return k
}

// expiry is when sig says pk expires (RFC 9580 5.2.3.13), zero for never.
func expiry(pk *packet.PublicKey, sig *packet.Signature) time.Time {
	if sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}
	}
	return pk.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
}

// Bytes returns the key in binary form, the canonical form for storage.
func (k *Key) Bytes() []byte {
	return bytes.Clone(k.raw)
}

// algorithmName names a public-key algorithm as RFC 9580 9.1 does.
func algorithmName(a packet.PublicKeyAlgorithm) string {
	switch a {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSAEncryptOnly, packet.PubKeyAlgoRSASignOnly:
		return "RSA"
	case packet.PubKeyAlgoElGamal:
		return "ElGamal"
	case packet.PubKeyAlgoDSA:
		return "DSA"
	case packet.PubKeyAlgoECDH:
		return "ECDH"
	case packet.PubKeyAlgoECDSA:
		return "ECDSA"
	case packet.PubKeyAlgoEdDSA:
		return "EdDSA"
	case packet.PubKeyAlgoX25519:
		return "X25519"
	case packet.PubKeyAlgoX448:
		return "X448"
	case packet.PubKeyAlgoEd25519:
		return "Ed25519"
	case packet.PubKeyAlgoEd448:
		return "Ed448"
	}
	return fmt.Sprintf("algorithm %d", a)
}

// keySize returns the curve and strength-relevant size of pk: the modulus for RSA, DSA
// and ElGamal, the field size for elliptic curves (go-crypto reports the encoded point
// length for the legacy curves, which is not what people compare).
func keySize(pk *packet.PublicKey) (curve string, bits int) {
	if c, err := pk.Curve(); err == nil {
		curve = string(c)
		lower := strings.ToLower(curve)
		switch {
		case strings.Contains(lower, "25519"):
			return curve, 255
		case strings.Contains(lower, "448"):
			return curve, 448
		case strings.Contains(lower, "521"):
			return curve, 521
		case strings.Contains(lower, "512"):
			return curve, 512
		case strings.Contains(lower, "384"):
			return curve, 384
		case strings.Contains(lower, "256"):
			return curve, 256
		}
	}
	n, err := pk.BitLength()
	if err != nil {
		return curve, 0
	}
	return curve, int(n)
}
