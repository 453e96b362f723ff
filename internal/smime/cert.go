package smime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reasons CheckCertificate refuses a certificate. They are wrapped with detail that never
// names the address, so callers can match them with errors.Is and show them to an admin.
var (
	ErrExpired     = errors.New("certificate expired")
	ErrNotYetValid = errors.New("certificate not yet valid")
	ErrWeakKey     = errors.New("certificate key too weak")
	ErrKeyType     = errors.New("certificate key type not supported for encryption")
	ErrKeyUsage    = errors.New("certificate key usage forbids encryption")
	ErrExtKeyUsage = errors.New("certificate extended key usage lacks emailProtection")
	ErrAddress     = errors.New("certificate does not name the recipient address")
)

// minRSABits is the smallest RSA modulus accepted: RFC 8551 6 sizes RSA keys at 2048 bits
// to give at least 100 bits of security.
const minRSABits = 2048

// ParseCertificate reads one X.509 certificate given as PEM (the first CERTIFICATE block;
// other blocks such as keys are skipped) or as raw DER.
func ParseCertificate(pemOrDER []byte) (*x509.Certificate, error) {
	// Trimming is only for recognising PEM: DER may end in bytes that look like
	// whitespace, and must be parsed exactly as given.
	data := bytes.TrimSpace(pemOrDER)
	if !bytes.HasPrefix(data, []byte("-----BEGIN")) {
		cert, err := x509.ParseCertificate(pemOrDER)
		if err != nil {
			return nil, fmt.Errorf("parse der certificate: %w", err)
		}
		return cert, nil
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("parse pem certificate: no CERTIFICATE block")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse pem certificate: %w", err)
		}
		return cert, nil
	}
}

// Fingerprint is the lowercase hex SHA-256 of the certificate's DER encoding, the form
// shown by `openssl x509 -fingerprint -sha256` without the colons.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// CheckCertificate says why cert must not be used to encrypt to addr at time now, or
// returns nil when it is usable. It does not build a chain to a trust anchor: deciding
// which certificates to trust for a recipient is the caller's policy.
func CheckCertificate(cert *x509.Certificate, addr string, now time.Time) error {
	if cert == nil {
		return errors.New("no certificate")
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("%w: valid from %s", ErrNotYetValid, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("%w: on %s", ErrExpired, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := checkKey(cert); err != nil {
		return err
	}
	if err := checkExtKeyUsage(cert); err != nil {
		return err
	}
	if !certNamesAddress(cert, addr) {
		return ErrAddress
	}
	return nil
}

// checkKey accepts the key types Encrypt can transport a content key to.
func checkKey(cert *x509.Certificate) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("%w: RSA key of %d bits, need %d", ErrWeakKey, bits, minRSABits)
		}
		// RFC 8550 4.4.2: with the extension present, key transport needs keyEncipherment.
		if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
			return fmt.Errorf("%w: RSA key without keyEncipherment", ErrKeyUsage)
		}
		return nil
	case *ecdsa.PublicKey:
		if _, err := ecdhScheme(pub.Curve); err != nil {
			return fmt.Errorf("%w: %v", ErrKeyType, err)
		}
		// RFC 5753 and RFC 8550 4.4.2: ECDH recipients need keyAgreement when the extension is present.
		if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageKeyAgreement == 0 {
			return fmt.Errorf("%w: EC key without keyAgreement", ErrKeyUsage)
		}
		return nil
	default:
		return fmt.Errorf("%w: %T", ErrKeyType, cert.PublicKey)
	}
}

// checkExtKeyUsage follows RFC 8550 4.4.4: when the extension is present it must allow
// emailProtection or any purpose.
func checkExtKeyUsage(cert *x509.Certificate) error {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageEmailProtection || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	return ErrExtKeyUsage
}

// certNamesAddress matches addr against the certificate's rfc822Name subjectAltNames and,
// as RFC 8550 3 asks receivers to accept, the legacy emailAddress attribute of the subject.
// The local part compares exactly and the domain case-insensitively (RFC 5280 4.2.1.6).
func certNamesAddress(cert *x509.Certificate, addr string) bool {
	for _, name := range cert.EmailAddresses {
		if sameAddress(name, addr) {
			return true
		}
	}
	for _, atv := range cert.Subject.Names {
		if !atv.Type.Equal(oidEmailAddress) {
			continue
		}
		if name, ok := atv.Value.(string); ok && sameAddress(name, addr) {
			return true
		}
	}
	return false
}

func sameAddress(a, b string) bool {
	ai, bi := strings.LastIndexByte(a, '@'), strings.LastIndexByte(b, '@')
	if ai <= 0 || bi <= 0 {
		return false
	}
	return a[:ai] == b[:bi] && strings.EqualFold(a[ai+1:], b[bi+1:])
}

// smimeCapability is one entry of SMIMECapabilities (RFC 8551 2.5.2).
type smimeCapability struct {
	ID     asn1.ObjectIdentifier
	Params asn1.RawValue `asn1:"optional"`
}

// SupportsGCM reports whether the certificate advertises AES-GCM (id-aes128-GCM or
// id-aes256-GCM) in an SMIMECapabilities extension (RFC 4262, RFC 8551 2.5.2). Every
// RFC 8551 agent decrypts both key sizes (RFC 8551 2.7), so either one is enough.
func SupportsGCM(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSMIMECapabilities) {
			continue
		}
		var caps []smimeCapability
		if _, err := asn1.Unmarshal(ext.Value, &caps); err != nil {
			return false
		}
		for _, c := range caps {
			if c.ID.Equal(oidAES128GCM) || c.ID.Equal(oidAES256GCM) {
				return true
			}
		}
	}
	return false
}

// ecdhScheme names the RFC 5753 key agreement scheme used for a curve: the KDF hash grows
// with the curve so the derived key keeps the curve's strength.
func ecdhScheme(c elliptic.Curve) (asn1.ObjectIdentifier, error) {
	switch c {
	case elliptic.P256():
		return oidECDHSHA256KDF, nil
	case elliptic.P384():
		return oidECDHSHA384KDF, nil
	case elliptic.P521():
		return oidECDHSHA512KDF, nil
	}
	return nil, fmt.Errorf("curve %s", c.Params().Name)
}
