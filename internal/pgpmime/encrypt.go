package pgpmime

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// messageType is the armor header line of an encrypted message (RFC 9580 6.2).
const messageType = "PGP MESSAGE"

// Info describes what Encrypt did, for the audit trail.
type Info struct {
	Fingerprint string // recipient's primary key fingerprint
	Signed      bool   // signed inside the encryption (RFC 3156 6.2)
	// AEAD is true for a SEIPDv2 packet (RFC 9580 5.13.2), false for SEIPDv1 with a
	// modification detection code (RFC 9580 5.13.1).
	AEAD bool
}

// Encrypt returns the RFC 3156 multipart/encrypted entity for entity (a MIME entity: its
// content headers, a blank line and its body) encrypted to rcpt at time now, signed
// first by signer when it is not nil (the combined method of RFC 3156 6.2). The result
// goes under the message's outer headers.
//
// The encrypted data is SEIPDv2 with AEAD only when rcpt advertises it in its features
// (RFC 9580 5.2.3.32); otherwise it is SEIPDv1 with MDC, which every OpenPGP
// implementation in use reads, GnuPG 2.2 included. Encrypt does not judge the key
// beyond what encryption needs: call Check first.
func Encrypt(entity []byte, rcpt *Key, signer *Signer, now time.Time) ([]byte, Info, error) {
	if rcpt == nil {
		return nil, Info{}, errors.New("pgpmime: encrypt: no recipient key")
	}
	if len(entity) == 0 {
		return nil, Info{}, errors.New("pgpmime: encrypt: empty entity")
	}
	if now.IsZero() {
		return nil, Info{}, errors.New("pgpmime: encrypt: zero time")
	}
	// RFC 3156 4: the encrypted entity is MIME, whose canonical line end is CRLF.
	content := canonicalCRLF(entity)
	cfg := config(now)
	info := Info{Fingerprint: rcpt.Fingerprint, Signed: signer != nil}
	// The same test go-crypto applies to choose SEIPDv2 for a single recipient.
	if sig, err := rcpt.entity.PrimarySelfSignature(now, cfg); err == nil {
		info.AEAD = sig.SEIPDv2
	}
	params := &openpgp.EncryptParams{Config: cfg}
	if signer != nil {
		params.Signers = []*openpgp.Entity{signer.entity}
	}

	var ciphertext bytes.Buffer
	ciphertext.Grow(len(content) + 1024)
	pw, err := openpgp.EncryptWithParams(&ciphertext, []*openpgp.Entity{rcpt.entity}, nil, params)
	if err != nil {
		return nil, Info{}, fmt.Errorf("pgpmime: encrypt to %s: %w", rcpt.Fingerprint, err)
	}
	if _, err := pw.Write(content); err != nil {
		return nil, Info{}, fmt.Errorf("pgpmime: encrypt: %w", err)
	}
	if err := pw.Close(); err != nil {
		return nil, Info{}, fmt.Errorf("pgpmime: encrypt: %w", err)
	}
	// RFC 9580 6.1: the CRC24 footer should be left out unless readers that need it are
	// expected. GnuPG 2.2 needs it: without it, armor whose data length is a multiple of
	// three (no "=" padding) runs on into the footer line and fails the MDC. So SEIPDv1,
	// written for such readers, keeps it; SEIPDv2 goes only to RFC 9580 readers.
	out, err := multipartEncrypted(ciphertext.Bytes(), !info.AEAD)
	if err != nil {
		return nil, Info{}, err
	}
	return out, info, nil
}

// canonicalCRLF returns b with every bare LF or CR turned into CRLF. Input that is
// already canonical, the expected case, is returned without copying.
func canonicalCRLF(b []byte) []byte {
	canonical := true
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') || c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			canonical = false
			break
		}
	}
	if canonical {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/16)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\r' && c != '\n' {
			out = append(out, c)
			continue
		}
		out = append(out, '\r', '\n')
		if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
	}
	return out
}
