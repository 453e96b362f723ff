// Package seal encrypts data at rest: a master keyring wraps per-tenant data keys, and
// data keys seal individual values with AES-256-GCM bound to where the value lives.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the size of every key handled here: AES-256.
const KeySize = 32

// version prefixes every sealed value so the format can change without ambiguity.
const version byte = 1

// ErrOpen is returned when a sealed value cannot be opened: wrong key, wrong binding
// (the value was moved to another row or field) or tampering. It never says which.
var ErrOpen = errors.New("seal: cannot open sealed value")

// DataKey seals and opens values for one tenant.
type DataKey struct {
	aead cipher.AEAD
}

// NewDataKeyBytes returns fresh random key material for a data key.
func NewDataKeyBytes() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("seal: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return k
}

// NewDataKey builds a DataKey from 32 bytes of key material.
func NewDataKey(key []byte) (*DataKey, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &DataKey{aead: aead}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext. The binding (for example "message/<id>/body") is
// authenticated but not stored: a ciphertext copied to another place fails to open.
func (k *DataKey) Seal(plaintext []byte, binding string) []byte {
	return sealWith(k.aead, plaintext, binding)
}

// Open decrypts a value sealed with the same key and binding.
func (k *DataKey) Open(sealed []byte, binding string) ([]byte, error) {
	return openWith(k.aead, sealed, binding)
}

// SealString and OpenString are conveniences for text fields.
func (k *DataKey) SealString(s, binding string) []byte { return k.Seal([]byte(s), binding) }

func (k *DataKey) OpenString(sealed []byte, binding string) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	b, err := k.Open(sealed, binding)
	return string(b), err
}

func sealWith(aead cipher.AEAD, plaintext []byte, binding string) []byte {
	ns := aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		panic("seal: no randomness: " + err.Error())
	}
	// Random 96-bit nonces are safe well beyond the 2^32 messages per key limit we could
	// reach; NIST SP 800-38D 8.3.
	return aead.Seal(out, out[1:1+ns], plaintext, []byte(binding)) // #nosec G407 -- the nonce is random, read just above
}

func openWith(aead cipher.AEAD, sealed []byte, binding string) ([]byte, error) {
	ns := aead.NonceSize()
	if len(sealed) < 1+ns+aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(binding))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Room SealInPlace needs around the plaintext: the version byte and the 96-bit GCM
// nonce before it, the 128-bit tag after it.
const (
	InPlacePrefix = 1 + 12
	InPlaceSuffix = 16
)

// SealInPlace seals buf[InPlacePrefix:] in its own storage and returns the sealed
// value, in the same form Seal makes. buf needs InPlaceSuffix bytes of spare capacity
// (or it is copied once). For a large message this halves the memory sealing needs.
func (k *DataKey) SealInPlace(buf []byte, binding string) []byte {
	ns := k.aead.NonceSize()
	if ns != InPlacePrefix-1 || k.aead.Overhead() != InPlaceSuffix || len(buf) < InPlacePrefix {
		panic("seal: SealInPlace needs a buffer starting with InPlacePrefix spare bytes")
	}
	buf[0] = version
	if _, err := rand.Read(buf[1 : 1+ns]); err != nil {
		panic("seal: no randomness: " + err.Error())
	}
	// GCM allows the output to overlap the input exactly: dst's free capacity starts
	// where the plaintext does.
	return k.aead.Seal(buf[:1+ns], buf[1:1+ns], buf[1+ns:], []byte(binding))
}

// OpenAppend is Open appending the plaintext to dst, so pieces of one value can be
// opened into a single buffer sized for the whole.
func (k *DataKey) OpenAppend(dst, sealed []byte, binding string) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != version {
		return dst, ErrOpen
	}
	out, err := k.aead.Open(dst, sealed[1:1+ns], sealed[1+ns:], []byte(binding))
	if err != nil {
		return dst, ErrOpen
	}
	return out, nil
}
