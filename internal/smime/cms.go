package smime

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
)

// Object identifiers used by the CMS structures built here.
var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}         // RFC 5652 4
	oidEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}         // RFC 5652 6.1
	oidAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23} // RFC 5083 2.1
	oidEmailAddress      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}         // RFC 2985
	oidSMIMECapabilities = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}        // RFC 8551 2.5.2
	oidRSAEncryption     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}         // RFC 3370 4.2.1
	oidRSAESOAEP         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}         // RFC 8017 A.2.1
	oidMGF1              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}         // RFC 8017 B.2.1
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}     // RFC 5754 2.2
	oidAES128CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}     // RFC 3565 3
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}    // RFC 3565 3
	oidAES256Wrap        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}    // RFC 3565 3
	oidAES128GCM         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}     // RFC 5084 3.2
	oidAES256GCM         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}    // RFC 5084 3.2
	oidECPublicKey       = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}             // RFC 5480 2.1.1
	oidECDHSHA256KDF     = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}                // RFC 5753 7.1.4
	oidECDHSHA384KDF     = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 2}                // RFC 5753 7.1.4
	oidECDHSHA512KDF     = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 3}                // RFC 5753 7.1.4
)

const (
	keySize   = 32 // AES-256 content-encryption key
	gcmNonce  = 12 // RFC 5084 3.2: a 12-octet nonce is RECOMMENDED
	gcmICVLen = 16 // RFC 5084 3.2: full-length tag; 12 is the default, so it is encoded
)

// contentInfo is RFC 5652 3; Content holds the [0] EXPLICIT wrapper already built, because
// encoding/asn1 ignores tags on RawValue fields.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

// encryptedContentInfo is RFC 5652 6.1; the content is [0] IMPLICIT OCTET STRING.
type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0"`
}

// envelopedData is RFC 5652 6.1 without originatorInfo and unprotectedAttrs.
type envelopedData struct {
	Version              int
	RecipientInfos       []asn1.RawValue `asn1:"set"`
	EncryptedContentInfo encryptedContentInfo
}

// authEnvelopedData is RFC 5083 2.1 without originatorInfo and attributes: with AES-GCM
// and no authAttrs the additional authenticated data is empty (RFC 5083 2.2).
type authEnvelopedData struct {
	Version                  int             // RFC 5083 2.1: always 0
	RecipientInfos           []asn1.RawValue `asn1:"set"`
	AuthEncryptedContentInfo encryptedContentInfo
	MAC                      []byte
}

// gcmParameters is RFC 5084 3.2.
type gcmParameters struct {
	Nonce  []byte
	ICVLen int
}

// issuerAndSerial is RFC 5652 10.2.4.
type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// sealed is the encrypted content and how to describe it, before the key is transported.
type sealed struct {
	alg        pkix.AlgorithmIdentifier
	ciphertext []byte
	tag        []byte // GCM only
}

// sealGCM encrypts content with AES-256-GCM (RFC 5084 3.2).
func sealGCM(key, content []byte, random io.Reader) (sealed, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealed{}, err
	}
	aead, err := cipher.NewGCMWithNonceSize(block, gcmNonce)
	if err != nil {
		return sealed{}, err
	}
	nonce := make([]byte, gcmNonce)
	if _, err := io.ReadFull(random, nonce); err != nil {
		return sealed{}, fmt.Errorf("read nonce: %w", err)
	}
	params, err := asn1.Marshal(gcmParameters{Nonce: nonce, ICVLen: gcmICVLen})
	if err != nil {
		return sealed{}, err
	}
	out := aead.Seal(nil, nonce, content, nil)
	n := len(out) - aead.Overhead()
	return sealed{
		alg:        pkix.AlgorithmIdentifier{Algorithm: oidAES256GCM, Parameters: asn1.RawValue{FullBytes: params}},
		ciphertext: out[:n],
		tag:        out[n:], // RFC 5083 2.1: the tag travels in the mac field
	}, nil
}

// sealCBC encrypts content with AES-256-CBC (RFC 3565 3) padded as RFC 5652 6.3 says.
func sealCBC(key, content []byte, random io.Reader) (sealed, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealed{}, err
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(random, iv); err != nil {
		return sealed{}, fmt.Errorf("read iv: %w", err)
	}
	params, err := asn1.Marshal(iv) // RFC 3565 3: AES-IV ::= OCTET STRING (SIZE(16))
	if err != nil {
		return sealed{}, err
	}
	pad := aes.BlockSize - len(content)%aes.BlockSize
	buf := make([]byte, len(content)+pad)
	copy(buf, content)
	for i := len(content); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return sealed{
		alg:        pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: params}},
		ciphertext: buf,
	}, nil
}

// envelope wraps sealed content and one RecipientInfo into a ContentInfo: AuthEnvelopedData
// when the content carries a GCM tag, EnvelopedData otherwise.
func envelope(s sealed, ri recipientInfo) ([]byte, error) {
	eci := encryptedContentInfo{
		ContentType:                oidData, // RFC 8551 3.3: the enveloped content is a MIME entity
		ContentEncryptionAlgorithm: s.alg,
		EncryptedContent:           s.ciphertext,
	}
	var (
		inner []byte
		ctype asn1.ObjectIdentifier
		err   error
	)
	if s.tag != nil {
		ctype = oidAuthEnvelopedData
		inner, err = asn1.Marshal(authEnvelopedData{
			Version:                  0,
			RecipientInfos:           []asn1.RawValue{{FullBytes: ri.der}},
			AuthEncryptedContentInfo: eci,
			MAC:                      s.tag,
		})
	} else {
		ctype = oidEnvelopedData
		// RFC 5652 6.1: version 0 only when every RecipientInfo is version 0 (ktri with
		// issuerAndSerialNumber); a kari (version 3) makes it 2.
		version := 0
		if ri.version != 0 {
			version = 2
		}
		inner, err = asn1.Marshal(envelopedData{
			Version:              version,
			RecipientInfos:       []asn1.RawValue{{FullBytes: ri.der}},
			EncryptedContentInfo: eci,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("marshal enveloped data: %w", err)
	}
	return asn1.Marshal(contentInfo{
		ContentType: ctype,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}
