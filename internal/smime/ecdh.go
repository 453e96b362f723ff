package smime

import (
	"crypto"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/rand"
	_ "crypto/sha256" // registers the KDF hashes for crypto.Hash.New
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
)

// keyAgreeRecipientInfo is RFC 5652 6.2.2. Originator holds the [0] EXPLICIT wrapper
// around the [1] IMPLICIT originatorKey, built by hand because encoding/asn1 cannot tag
// a CHOICE.
type keyAgreeRecipientInfo struct {
	Version                int // RFC 5652 6.2.2: always 3
	Originator             asn1.RawValue
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	RecipientEncryptedKeys []recipientEncryptedKey
}

type recipientEncryptedKey struct {
	RID          issuerAndSerial
	EncryptedKey []byte
}

// originatorPublicKey is RFC 5652 6.2.2.
type originatorPublicKey struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// eccCMSSharedInfo is the KDF input of RFC 5753 7.2.
type eccCMSSharedInfo struct {
	KeyInfo     pkix.AlgorithmIdentifier
	SuppPubInfo []byte `asn1:"explicit,tag:2"`
}

// keyAgree delivers cek with ephemeral-static ECDH (RFC 5753 3.1.1, required by RFC 8551
// 2.3 for P-256). RFC 8551 2.3 pairs the wrap size with the content cipher, so AES-256
// content gets AES-256 key wrap.
func keyAgree(cert *x509.Certificate, cek []byte) (recipientInfo, error) {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return recipientInfo{}, fmt.Errorf("%w: %T", ErrKeyType, cert.PublicKey)
	}
	scheme, err := ecdhScheme(pub.Curve)
	if err != nil {
		return recipientInfo{}, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	static, err := pub.ECDH()
	if err != nil {
		return recipientInfo{}, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	eph, err := static.Curve().GenerateKey(rand.Reader)
	if err != nil {
		return recipientInfo{}, fmt.Errorf("ephemeral key: %w", err)
	}
	z, err := eph.ECDH(static)
	if err != nil {
		return recipientInfo{}, fmt.Errorf("ecdh: %w", err)
	}
	wrapAlg := pkix.AlgorithmIdentifier{Algorithm: oidAES256Wrap} // RFC 3565 3: parameters absent
	kek, err := x963KDF(kdfHash(scheme), z, wrapAlg, len(cek))
	if err != nil {
		return recipientInfo{}, err
	}
	wrapped, err := aesKeyWrap(kek, cek)
	if err != nil {
		return recipientInfo{}, err
	}
	wrapDER, err := asn1.Marshal(wrapAlg)
	if err != nil {
		return recipientInfo{}, err
	}
	// RFC 5753 3.1.1: originatorKey carries id-ecPublicKey (parameters absent, the
	// recipient's curve applies) and the ephemeral point, uncompressed.
	opk, err := asn1.Marshal(originatorPublicKey{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey},
		PublicKey: asn1.BitString{Bytes: eph.PublicKey().Bytes(), BitLength: 8 * len(eph.PublicKey().Bytes())},
	})
	if err != nil {
		return recipientInfo{}, err
	}
	opk[0] = 0xa1 // [1] IMPLICIT originatorKey replaces the SEQUENCE tag
	der, err := asn1.Marshal(keyAgreeRecipientInfo{
		Version:                3,
		Originator:             asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: opk},
		KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: scheme, Parameters: asn1.RawValue{FullBytes: wrapDER}},
		RecipientEncryptedKeys: []recipientEncryptedKey{{
			RID:          issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber},
			EncryptedKey: wrapped,
		}},
	})
	if err != nil {
		return recipientInfo{}, fmt.Errorf("marshal recipient info: %w", err)
	}
	der[0] = 0xa1 // RFC 5652 6.2: kari is the [1] IMPLICIT alternative of RecipientInfo
	return recipientInfo{der: der, version: 3, name: KeyECDH}, nil
}

func kdfHash(scheme asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case scheme.Equal(oidECDHSHA384KDF):
		return crypto.SHA384
	case scheme.Equal(oidECDHSHA512KDF):
		return crypto.SHA512
	}
	return crypto.SHA256
}

// x963KDF derives size bytes from the shared secret z (RFC 5753 7.2 with the ANSI X9.63
// KDF of SEC 1 3.6.1): Hash(z || counter || SharedInfo) for counter = 1, 2, ...
func x963KDF(h crypto.Hash, z []byte, keyInfo pkix.AlgorithmIdentifier, size int) ([]byte, error) {
	bits := make([]byte, 4)
	binary.BigEndian.PutUint32(bits, uint32(size*8)) // #nosec G115 -- a key size; RFC 5753 7.2: key length in bits
	info, err := asn1.Marshal(eccCMSSharedInfo{KeyInfo: keyInfo, SuppPubInfo: bits})
	if err != nil {
		return nil, fmt.Errorf("marshal shared info: %w", err)
	}
	var out []byte
	counter := make([]byte, 4)
	for c := uint32(1); len(out) < size; c++ {
		d := h.New()
		binary.BigEndian.PutUint32(counter, c)
		d.Write(z)
		d.Write(counter)
		d.Write(info)
		out = d.Sum(out)
	}
	return out[:size], nil
}

// aesKeyWrap is the AES key wrap of RFC 3394 2.2.1 with the default IV of 2.2.3.1.
func aesKeyWrap(kek, key []byte) ([]byte, error) {
	if len(key)%8 != 0 || len(key) < 16 {
		return nil, errors.New("key wrap: key length not a multiple of 8")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key wrap: %w", err)
	}
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	copy(out[8:], key)
	a := uint64(0xa6a6a6a6a6a6a6a6)
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			r := out[8*i : 8*i+8]
			binary.BigEndian.PutUint64(b[:8], a)
			copy(b[8:], r)
			block.Encrypt(b[:], b[:])
			a = binary.BigEndian.Uint64(b[:8]) ^ uint64(n*j+i)
			copy(r, b[8:])
		}
	}
	binary.BigEndian.PutUint64(out[:8], a)
	return out, nil
}
