package smime

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"
)

// Signer is the sending identity for sign-then-encrypt: its certificate, the matching
// private key, and intermediates to ship so the recipient can build a path (the root may
// be left out).
type Signer struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// ourCapabilities lists, in order of preference, the content ciphers this sender can
// decrypt in replies (RFC 8551 2.5.2), so a replying agent picks AES-GCM.
func ourCapabilities() ([]byte, error) {
	return asn1.Marshal([]smimeCapability{
		{ID: oidAES256GCM},
		{ID: oidAES128GCM},
		{ID: oidAES256CBC},
		{ID: oidAES128CBC},
	})
}

// sign wraps content in an opaque SignedData (RFC 8551 3.5.2) with SHA-256 and signed
// attributes (content type, message digest, signing time, SMIMECapabilities). Opaque
// signing keeps the signed bytes exactly as given, which inside an envelope no relay can
// alter anyway.
func sign(content []byte, s *Signer) ([]byte, error) {
	if s.Cert == nil || s.Key == nil {
		return nil, errors.New("signer needs a certificate and a key")
	}
	pub, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(s.Cert.PublicKey) {
		return nil, errors.New("signer key does not match its certificate")
	}
	caps, err := ourCapabilities()
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	// RFC 8551 2.1: SHA-256 is mandatory to support; the library's default is SHA-1.
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	// The signer is identified by its own issuer and serial; the chain is attached as
	// plain certificates so its order does not matter.
	err = sd.AddSigner(s.Cert, s.Key, pkcs7.SignerInfoConfig{
		ExtraSignedAttributes: []pkcs7.Attribute{{Type: oidSMIMECapabilities, Value: asn1.RawValue{FullBytes: caps}}},
	})
	if err != nil {
		return nil, fmt.Errorf("add signer: %w", err)
	}
	for _, c := range s.Chain {
		if c != nil && !c.Equal(s.Cert) {
			sd.AddCertificate(c)
		}
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("finish signed data: %w", err)
	}
	return der, nil
}
