package smime

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// Key-encryption algorithm names reported in Info.KeyEncryption.
const (
	KeyRSA     = "RSA-PKCS1-v1_5"
	KeyRSAOAEP = "RSAES-OAEP-SHA256"
	KeyECDH    = "ECDH-ES-AES256-WRAP"
)

// recipientInfo is one encoded RecipientInfo with the version that decides the
// EnvelopedData version (RFC 5652 6.1).
type recipientInfo struct {
	der     []byte
	version int
	name    string
}

// keyTransRecipientInfo is RFC 5652 6.2.1 with the issuerAndSerialNumber identifier, which
// every agent understands (a subjectKeyIdentifier would need version 2).
type keyTransRecipientInfo struct {
	Version                int
	RID                    issuerAndSerial
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

// oaepParams is RSAES-OAEP-params (RFC 8017 A.2.1) with SHA-256 for both the hash and MGF1;
// pSourceFunc keeps its default (empty label).
type oaepParams struct {
	Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
	MGF  pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
}

// transportKey delivers the content-encryption key to the certificate's key: RSA key
// transport for RSA keys, ephemeral-static ECDH for EC keys.
func transportKey(cert *x509.Certificate, cek []byte, oaep bool) (recipientInfo, error) {
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return keyTrans(cert, cek, oaep)
	case *ecdsa.PublicKey:
		return keyAgree(cert, cek)
	}
	return recipientInfo{}, fmt.Errorf("%w: %T", ErrKeyType, cert.PublicKey)
}

func keyTrans(cert *x509.Certificate, cek []byte, oaep bool) (recipientInfo, error) {
	pub := cert.PublicKey.(*rsa.PublicKey)
	var (
		alg  pkix.AlgorithmIdentifier
		ek   []byte
		name string
		err  error
	)
	if oaep {
		alg, err = oaepAlgorithm()
		if err != nil {
			return recipientInfo{}, err
		}
		// RFC 8551 2.3 (SHOULD+), RFC 3560 3: OAEP with SHA-256 and an empty label.
		ek, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, cek, nil)
		name = KeyRSAOAEP
	} else {
		// RFC 8551 2.3: RSA PKCS #1 v1.5 key transport is the one every agent MUST decrypt
		// (RFC 3370 4.2.1: rsaEncryption with NULL parameters).
		alg = pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}
		//lint:ignore SA1019 the key transport every S/MIME agent must decrypt; OAEP is used when the certificate asks for it
		ek, err = rsa.EncryptPKCS1v15(rand.Reader, pub, cek)
		name = KeyRSA
	}
	if err != nil {
		return recipientInfo{}, fmt.Errorf("rsa key transport: %w", err)
	}
	der, err := asn1.Marshal(keyTransRecipientInfo{
		Version:                0, // RFC 5652 6.2.1: 0 with issuerAndSerialNumber
		RID:                    issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber},
		KeyEncryptionAlgorithm: alg,
		EncryptedKey:           ek,
	})
	if err != nil {
		return recipientInfo{}, fmt.Errorf("marshal recipient info: %w", err)
	}
	return recipientInfo{der: der, version: 0, name: name}, nil
}

func oaepAlgorithm() (pkix.AlgorithmIdentifier, error) {
	// RFC 4055 2.1: the OAEP definitions write hash identifiers with NULL parameters
	// (readers must accept absent ones too).
	sha := pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}
	shaDER, err := asn1.Marshal(sha)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	params, err := asn1.Marshal(oaepParams{
		Hash: sha,
		MGF:  pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: shaDER}},
	})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidRSAESOAEP, Parameters: asn1.RawValue{FullBytes: params}}, nil
}
