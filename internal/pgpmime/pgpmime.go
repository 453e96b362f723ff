// Package pgpmime owns OpenPGP for outgoing mail: judging recipient keys, finding them in
// a Web Key Directory, and turning a MIME entity into a PGP/MIME (RFC 3156) encrypted one.
package pgpmime

import (
	"errors"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Reasons a key must not be used. Check and Lookup wrap them with the key's fingerprint
// (never the address, which is PHI), so callers test them with errors.Is.
var (
	ErrRevoked         = errors.New("key revoked")
	ErrExpired         = errors.New("key expired")
	ErrNoEncryptionKey = errors.New("no valid encryption-capable key")
	ErrWeak            = errors.New("key too weak")
	ErrNoUserID        = errors.New("no valid user ID for the address")
	ErrInvalid         = errors.New("key has no valid self-signature")
	// ErrNotFound says a Web Key Directory holds no key for the address.
	ErrNotFound = errors.New("no key published for the address")
)

// minBits is the smallest RSA, DSA or ElGamal modulus accepted, in line with the
// 2048-bit floor of NIST SP 800-131A that healthcare regulators refer to.
const minBits = 2048

// config is the go-crypto configuration for one operation at time now. It is built per
// call because the clock is part of it; it is cheap.
func config(now time.Time) *packet.Config {
	return &packet.Config{
		Time: func() time.Time { return now },
		// Preferred when the recipient lists it; go-crypto's own default is AES-128.
		DefaultCipher: packet.CipherAES256,
		MinRSABits:    minBits,
		// DSA and ElGamal of 2048 bits or more are acceptable here; Check judges sizes,
		// so go-crypto's blanket refusal of both algorithms is lifted.
		RejectPublicKeyAlgorithms: map[packet.PublicKeyAlgorithm]bool{},
	}
}

// settle verifies every self-signature of e once, so that later use of the entity at any
// date only reads the results. go-crypto otherwise verifies lazily and stores the outcome
// in the signature, which would make a shared Key unsafe for concurrent use and would
// repeat public-key operations for each message. Validity here is the date-free part
// (signature maths and, as go-crypto does for certifications and bindings, the hash and
// notation policy); go-crypto checks expiry at each use.
func settle(e *openpgp.Entity, cfg *packet.Config) {
	pk := e.PrimaryKey
	set := func(vs *packet.VerifiableSignature, err error, policy bool) {
		if vs.Valid != nil {
			return
		}
		if err == nil && policy {
			err = sigPolicy(vs.Packet, cfg)
		}
		ok := err == nil
		vs.Valid = &ok
	}
	for _, vs := range e.Revocations {
		set(vs, pk.VerifyRevocationSignature(vs.Packet), false)
	}
	for _, vs := range e.DirectSignatures {
		set(vs, pk.VerifyDirectKeySignature(vs.Packet), true)
	}
	for _, id := range e.Identities {
		for _, vs := range id.SelfCertifications {
			set(vs, pk.VerifyUserIdSignature(id.Name, pk, vs.Packet), true)
		}
		for _, vs := range id.Revocations {
			set(vs, pk.VerifyUserIdSignature(id.Name, pk, vs.Packet), true)
		}
	}
	for i := range e.Subkeys {
		sub := &e.Subkeys[i]
		for _, vs := range sub.Bindings {
			set(vs, pk.VerifyKeySignature(sub.PublicKey, vs.Packet), true)
		}
		for _, vs := range sub.Revocations {
			set(vs, pk.VerifySubkeyRevocationSignature(vs.Packet, sub.PublicKey), false)
		}
	}
}

// sigPolicy applies the date-free policy go-crypto applies to self-signatures.
func sigPolicy(sig *packet.Signature, cfg *packet.Config) error {
	if cfg.RejectHashAlgorithm(sig.Hash) {
		return errors.New("insecure hash algorithm")
	}
	for _, n := range sig.Notations {
		// RFC 9580 5.2.3.7: a signature with an unknown critical subpacket is invalid.
		if n.IsCritical && !cfg.KnownNotation(n.Name) {
			return errors.New("unknown critical notation")
		}
	}
	return nil
}
