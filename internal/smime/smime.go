// Package smime turns an outgoing MIME entity into an S/MIME 4.0 (RFC 8551) part for one
// recipient: optionally signed by the sender, then enveloped to the recipient's certificate.
package smime

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Content-encryption algorithm names reported in Info.Algorithm.
const (
	AES256GCM = "AES-256-GCM"
	AES256CBC = "AES-256-CBC"
)

// Recipient is whom the entity is enveloped to.
type Recipient struct {
	Cert *x509.Certificate
}

// Options tune Encrypt. The zero value encrypts without signing, with RSA PKCS #1 v1.5
// key transport and the system's random source.
type Options struct {
	// Signer, when set, signs the entity before it is enveloped (sign-then-encrypt).
	Signer *Signer
	// OAEP selects RSAES-OAEP with SHA-256 for RSA recipients instead of PKCS #1 v1.5.
	// RFC 8551 2.3 makes OAEP SHOULD+ but only PKCS #1 v1.5 MUST, so it is off by default.
	OAEP bool
	// GCM forces AuthEnvelopedData with AES-256-GCM for a recipient known to support it
	// from elsewhere, e.g. the SMIMECapabilities of a message they signed (RFC 8551 2.7.1).
	GCM bool
	// Rand is the source for content keys, IVs and nonces; nil means crypto/rand.Reader.
	// Key transport and signatures always use the system source (Go 1.26 ignores others).
	Rand io.Reader
}

// Info describes what Encrypt did, for the audit trail.
type Info struct {
	Algorithm       string // AES256GCM or AES256CBC
	KeyEncryption   string // KeyRSA, KeyRSAOAEP or KeyECDH
	CertFingerprint string // Fingerprint of the recipient certificate
	Signed          bool
}

// Encrypt signs entity when opts.Signer is set, then envelops it to rcpt: AuthEnvelopedData
// with AES-256-GCM (RFC 5083, RFC 5084) when SupportsGCM(rcpt.Cert) or opts.GCM, otherwise
// EnvelopedData with AES-256-CBC. entity is a MIME entity (its content headers, a blank
// line, its body); bare LF line ends are made CRLF first, the canonical form of RFC 8551
// 3.1.1. The result is an application/pkcs7-mime entity to place under the message's
// outer headers. Encrypt does not judge the certificate: call CheckCertificate first.
func Encrypt(entity []byte, rcpt Recipient, opts Options) ([]byte, Info, error) {
	if rcpt.Cert == nil {
		return nil, Info{}, errors.New("smime: no recipient certificate")
	}
	if len(entity) == 0 {
		return nil, Info{}, errors.New("smime: empty entity")
	}
	random := opts.Rand
	if random == nil {
		random = rand.Reader
	}
	info := Info{CertFingerprint: Fingerprint(rcpt.Cert)}
	content := canonicalCRLF(entity)
	if opts.Signer != nil {
		der, err := sign(content, opts.Signer)
		if err != nil {
			return nil, Info{}, fmt.Errorf("smime: sign: %w", err)
		}
		// RFC 8551 3.5.2: opaque signed data travels as application/pkcs7-mime.
		content = p7mEntity("signed-data", der)
		info.Signed = true
	}

	cek := make([]byte, keySize)
	if _, err := io.ReadFull(random, cek); err != nil {
		return nil, Info{}, fmt.Errorf("smime: read content key: %w", err)
	}
	var (
		s         sealed
		err       error
		smimeType string
	)
	if opts.GCM || SupportsGCM(rcpt.Cert) {
		s, err = sealGCM(cek, content, random)
		info.Algorithm, smimeType = AES256GCM, "authEnveloped-data" // RFC 8551 3.2.2
	} else {
		s, err = sealCBC(cek, content, random)
		info.Algorithm, smimeType = AES256CBC, "enveloped-data"
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("smime: encrypt content: %w", err)
	}
	ri, err := transportKey(rcpt.Cert, cek, opts.OAEP)
	if err != nil {
		return nil, Info{}, fmt.Errorf("smime: %w", err)
	}
	info.KeyEncryption = ri.name
	der, err := envelope(s, ri)
	if err != nil {
		return nil, Info{}, fmt.Errorf("smime: %w", err)
	}
	return p7mEntity(smimeType, der), info, nil
}

// canonicalCRLF returns b with every bare LF (and bare CR) made CRLF; CRLF input is
// returned as is, without copying.
func canonicalCRLF(b []byte) []byte {
	bare := false
	for i, c := range b {
		if (c == '\n' && (i == 0 || b[i-1] != '\r')) || (c == '\r' && (i+1 == len(b) || b[i+1] != '\n')) {
			bare = true
			break
		}
	}
	if !bare {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/32)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			out = append(out, '\r', '\n')
			i++
		case c == '\r' || c == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// lineLen is the base64 line length: RFC 2045 6.8 allows at most 76 characters.
const lineLen = 76

// p7mEntity renders DER as an application/pkcs7-mime entity (RFC 8551 3.2, 3.2.1) in
// base64 lines of 76 characters with CRLF ends.
func p7mEntity(smimeType string, der []byte) []byte {
	header := "Content-Type: application/pkcs7-mime; smime-type=" + smimeType + "; name=smime.p7m\r\n" +
		"Content-Disposition: attachment; filename=smime.p7m\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n"
	encLen := base64.StdEncoding.EncodedLen(len(der))
	out := bytes.NewBuffer(make([]byte, 0, len(header)+encLen+2*(encLen/lineLen+1)))
	out.WriteString(header)
	enc := make([]byte, encLen)
	base64.StdEncoding.Encode(enc, der)
	for len(enc) > 0 {
		n := min(lineLen, len(enc))
		out.Write(enc[:n])
		out.WriteString("\r\n")
		enc = enc[n:]
	}
	return out.Bytes()
}
