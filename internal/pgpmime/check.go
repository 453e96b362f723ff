package pgpmime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// KeyError says why a key must not be used. Reason is one of the Err… values above;
// Detail is safe to log: it names keys and algorithms, never addresses.
type KeyError struct {
	Fingerprint string
	Reason      error
	Detail      string
}

func (e *KeyError) Error() string {
	s := e.Reason.Error() + ": " + e.Fingerprint
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *KeyError) Unwrap() error { return e.Reason }

// Check says why k must not be used to encrypt to addr at time now, or returns nil when
// it may be. Refusals are *KeyError values wrapping ErrRevoked (the primary key, or every
// encryption-capable subkey), ErrExpired, ErrInvalid, ErrWeak (RSA, DSA or ElGamal under
// 2048 bits), ErrNoUserID (no valid user ID whose address equals addr, ignoring case) or
// ErrNoEncryptionKey. A nil result means Encrypt at the same time will find a key.
func (k *Key) Check(addr string, now time.Time) error {
	if now.IsZero() {
		return errors.New("pgpmime: check: zero time")
	}
	e := k.entity
	cfg := config(now)
	fail := func(reason error, detail string, args ...any) error {
		return &KeyError{Fingerprint: k.Fingerprint, Reason: reason, Detail: fmt.Sprintf(detail, args...)}
	}
	if now.Before(e.PrimaryKey.CreationTime) {
		return fail(ErrExpired, "key not valid before its creation")
	}
	// RFC 9580 5.2.1.11: a key revocation signature withdraws the whole key.
	if e.Revoked(now) {
		return fail(ErrRevoked, "primary key revoked")
	}
	primarySig, err := e.VerifyPrimaryKey(now, cfg)
	switch {
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return fail(ErrRevoked, "primary key revoked")
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return fail(ErrExpired, "primary key expired or not yet valid")
	case err != nil && e.PrimaryKey.Version < 6:
		// For v4 keys the primary self-signature is that of a user ID, so no valid
		// self-signature means no valid user ID at this time.
		return fail(ErrNoUserID, "no valid user ID")
	case err != nil:
		return fail(ErrInvalid, "no valid direct-key signature")
	}
	if weak, bits := weakKey(e.PrimaryKey); weak {
		return fail(ErrWeak, "primary key %s %d bits", algorithmName(e.PrimaryKey.PubKeyAlgo), bits)
	}
	if !k.hasUserID(addr, now, cfg) {
		return fail(ErrNoUserID, "no valid user ID with the address")
	}
	if err := k.checkEncryptionKeys(primarySig, now, cfg); err != nil {
		return err
	}
	// Our own classification above and go-crypto's key selection must agree, or Encrypt
	// would fail after Check said yes.
	if _, err := e.EncryptionKeyWithError(now, cfg); err != nil {
		return fail(ErrNoEncryptionKey, "%v", err)
	}
	return nil
}

// checkEncryptionKeys classifies the encryption-capable subkeys (or the primary key, when
// it is the only one allowed to encrypt) to give the most useful reason none is usable.
func (k *Key) checkEncryptionKeys(primarySig *packet.Signature, now time.Time, cfg *packet.Config) error {
	e := k.entity
	var total, revoked, expired, weak int
	for i := range e.Subkeys {
		sub := &e.Subkeys[i]
		// The newest binding whatever the date says what the subkey is for.
		binding, err := sub.LatestValidBindingSignature(time.Time{}, cfg)
		if err != nil || !canEncrypt(binding, sub.PublicKey.PubKeyAlgo, cfg) {
			continue
		}
		total++
		_, err = sub.Verify(now, cfg)
		switch {
		case errors.Is(err, pgperrors.ErrKeyRevoked):
			revoked++
		case errors.Is(err, pgperrors.ErrKeyExpired):
			expired++
		case err != nil:
			// A binding made after now or itself expired: not usable, no better name.
		default:
			if bad, _ := weakKey(sub.PublicKey); bad {
				weak++
				continue
			}
			return nil
		}
	}
	fail := func(reason error, detail string) error {
		return &KeyError{Fingerprint: k.Fingerprint, Reason: reason, Detail: detail}
	}
	if canEncrypt(primarySig, e.PrimaryKey.PubKeyAlgo, cfg) {
		// go-crypto falls back to a primary key flagged for encryption; it was judged above.
		return nil
	}
	switch {
	case weak > 0:
		return fail(ErrWeak, "encryption subkey under 2048 bits")
	case total > 0 && revoked == total:
		return fail(ErrRevoked, "every encryption subkey revoked")
	case expired > 0:
		return fail(ErrExpired, "encryption subkeys expired")
	case total == 0:
		return fail(ErrNoEncryptionKey, "no encryption-capable subkey")
	}
	return fail(ErrNoEncryptionKey, "no encryption subkey valid at this time")
}

// canEncrypt says whether the key flags of sig (RFC 9580 5.2.3.29) allow encryption.
func canEncrypt(sig *packet.Signature, algo packet.PublicKeyAlgorithm, cfg *packet.Config) bool {
	if !algo.CanEncrypt() {
		return false
	}
	if !sig.FlagsValid {
		return cfg.AllowAllKeyFlagsWhenMissing()
	}
	return sig.FlagEncryptCommunications || sig.FlagEncryptStorage
}

// weakKey says whether pk is an RSA, DSA or ElGamal key under minBits.
func weakKey(pk *packet.PublicKey) (bool, int) {
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSAEncryptOnly, packet.PubKeyAlgoRSASignOnly,
		packet.PubKeyAlgoDSA, packet.PubKeyAlgoElGamal:
		n, err := pk.BitLength()
		return err != nil || int(n) < minBits, int(n)
	}
	return false, 0
}

// hasUserID says whether k has a user ID valid at now whose address is addr.
func (k *Key) hasUserID(addr string, now time.Time, cfg *packet.Config) bool {
	addr = bareAddress(addr)
	if addr == "" {
		return false
	}
	for name, id := range k.entity.Identities {
		if !strings.EqualFold(bareAddress(name), addr) {
			continue
		}
		if _, err := id.Verify(now, cfg); err == nil {
			return true
		}
	}
	return false
}

// bareAddress returns the address in a user ID by the convention of RFC 9580 5.11
// ("Name (Comment) <addr>"), or the whole trimmed user ID when it has no angle brackets.
func bareAddress(uid string) string {
	if i := strings.LastIndexByte(uid, '<'); i >= 0 {
		if j := strings.IndexByte(uid[i:], '>'); j > 0 {
			return strings.TrimSpace(uid[i+1 : i+j])
		}
	}
	return strings.TrimSpace(uid)
}
