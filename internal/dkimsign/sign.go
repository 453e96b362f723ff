package dkimsign

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/sealpost/sealpost/internal/message"
)

// DefaultHeaderKeys returns the header fields signed when Signer.HeaderKeys
// is nil: those RFC 6376 5.4.1 recommends that carry meaning for the
// reader. "From" is listed twice to over-sign it (RFC 6376 8.15): the
// second, absent instance makes the signature fail if anyone adds another
// From, the field DMARC and readers trust.
func DefaultHeaderKeys() []string {
	return []string{
		"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
		"In-Reply-To", "References", "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", "From",
		// RFC 8058 4: the one-click pair must be signed. Over-signing them on mail
		// that lacks them keeps anyone from adding them in transit.
		"List-Unsubscribe", "List-Unsubscribe-Post",
	}
}

// Signer signs messages for one domain with one key. Signing uses
// relaxed/relaxed canonicalisation (RFC 6376 3.4.2, 3.4.4), which survives
// the re-folding and whitespace changes relays make, and SHA-256
// (RFC 8301 3.1 forbids SHA-1). A Signer may be used concurrently.
type Signer struct {
	Domain     string // d=, the signing domain
	Selector   string // s=
	Key        crypto.Signer
	HeaderKeys []string // nil: DefaultHeaderKeys()
}

func (s *Signer) options() (*dkim.SignOptions, error) {
	if s.Key == nil || s.Domain == "" || s.Selector == "" {
		return nil, errors.New("dkimsign: Domain, Selector and Key are required")
	}
	if _, err := algorithm(s.Key.Public()); err != nil {
		return nil, err
	}
	keys := s.HeaderKeys
	if keys == nil {
		keys = DefaultHeaderKeys()
	}
	return &dkim.SignOptions{
		Domain:                 s.Domain,
		Selector:               s.Selector,
		Signer:                 s.Key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             keys,
	}, nil
}

// SignedHeader reads the whole message from r and returns the
// DKIM-Signature header field, folded and ending in CRLF, with t= set to
// now. The signature covers the message with its line endings normalised
// to CRLF, so the caller must send it that way (the delivery package does).
// Prepending the result avoids copying a large message.
func (s *Signer) SignedHeader(r io.Reader) (string, error) {
	opts, err := s.options()
	if err != nil {
		return "", err
	}
	ds, err := dkim.NewSigner(opts)
	if err != nil {
		return "", fmt.Errorf("dkimsign: %w", err)
	}
	if _, err := io.Copy(ds, message.NewCRLFReader(r)); err != nil {
		ds.Close() // stops the signer's goroutine; the copy error is the one to report
		return "", fmt.Errorf("dkimsign: read message: %w", err)
	}
	if err := ds.Close(); err != nil {
		return "", fmt.Errorf("dkimsign: sign: %w", err)
	}
	return ds.Signature(), nil
}

// Sign writes the DKIM-Signature header field followed by the message,
// with line endings normalised to CRLF as signed. If r is an io.ReadSeeker
// it is read twice instead of being held in memory.
func (s *Signer) Sign(w io.Writer, r io.Reader) error {
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err == nil {
			return s.signSeeker(w, rs, start)
		}
	}
	var buf bytes.Buffer
	header, err := s.SignedHeader(io.TeeReader(r, &buf))
	if err != nil {
		return err
	}
	return writeSigned(w, header, &buf)
}

func (s *Signer) signSeeker(w io.Writer, rs io.ReadSeeker, start int64) error {
	header, err := s.SignedHeader(rs)
	if err != nil {
		return err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("dkimsign: rewind message: %w", err)
	}
	return writeSigned(w, header, rs)
}

// writeSigned puts the signature first: RFC 6376 5.6 requires it to be
// prepended, above any existing header fields.
func writeSigned(w io.Writer, header string, body io.Reader) error {
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	_, err := io.Copy(w, message.NewCRLFReader(body))
	return err
}
