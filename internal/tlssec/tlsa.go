package tlssec

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TLSA is one TLSA record (RFC 6698 2.1).
type TLSA struct {
	Usage        uint8  `json:"usage"`
	Selector     uint8  `json:"selector"`
	MatchingType uint8  `json:"matching_type"`
	Data         []byte `json:"data"`
}

// Certificate usages, selectors and matching types (RFC 6698 2.1.1-2.1.3,
// RFC 7218 2).
const (
	UsagePKIXTA uint8 = 0 // unusable for SMTP (RFC 7672 3.1.3)
	UsagePKIXEE uint8 = 1 // unusable for SMTP (RFC 7672 3.1.3)
	UsageDANETA uint8 = 2
	UsageDANEEE uint8 = 3

	SelectorCert uint8 = 0
	SelectorSPKI uint8 = 1

	MatchFull   uint8 = 0
	MatchSHA256 uint8 = 1
	MatchSHA512 uint8 = 2
)

// ErrNoUsableTLSA is returned by Verify when no record can be used.
var ErrNoUsableTLSA = errors.New("no usable TLSA records")

// String renders the record in presentation form, "3 1 1 <hex>".
func (t TLSA) String() string {
	return fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, hex.EncodeToString(t.Data))
}

// Usable reports whether an SMTP client can use the record. RFC 7672
// 3.1.3: the PKIX usages are unusable for SMTP, since MX hosts need not
// hold certificates from any particular CA; so are unknown selectors and
// matching types (RFC 6698 4.1), and digests of the wrong length, which can
// never match.
func (t TLSA) Usable() bool {
	if t.Usage != UsageDANETA && t.Usage != UsageDANEEE {
		return false
	}
	if t.Selector != SelectorCert && t.Selector != SelectorSPKI {
		return false
	}
	switch t.MatchingType {
	case MatchFull:
		return len(t.Data) > 0
	case MatchSHA256:
		return len(t.Data) == sha256.Size
	case MatchSHA512:
		return len(t.Data) == sha512.Size
	}
	return false
}

// Matches reports whether cert is the certificate or key the record
// describes, ignoring the usage.
func (t TLSA) Matches(cert *x509.Certificate) bool {
	want := Association(cert, t.Selector, t.MatchingType)
	return want != nil && bytes.Equal(want, t.Data)
}

// UsableRecords returns the records of rrs that are Usable.
func UsableRecords(rrs []TLSA) []TLSA {
	var out []TLSA
	for _, r := range rrs {
		if r.Usable() {
			out = append(out, r)
		}
	}
	return out
}

// Association computes the data a TLSA record with selector and mtype
// holds for cert (RFC 6698 2.1.2, 2.1.3), e.g. to publish a record for our
// own certificate. It returns nil for unknown parameters.
func Association(cert *x509.Certificate, selector, mtype uint8) []byte {
	var data []byte
	switch selector {
	case SelectorCert:
		data = cert.Raw
	case SelectorSPKI:
		data = cert.RawSubjectPublicKeyInfo
	default:
		return nil
	}
	switch mtype {
	case MatchFull:
		return bytes.Clone(data)
	case MatchSHA256:
		sum := sha256.Sum256(data)
		return sum[:]
	case MatchSHA512:
		sum := sha512.Sum512(data)
		return sum[:]
	}
	return nil
}

// Verify reports whether the chain a server presented (leaf first)
// satisfies one of the usable records. names are the reference identifiers
// for DANE-TA: the MX host name and the TLSA base domain (RFC 7672 3.2.2).
// It returns ErrNoUsableTLSA if no record is usable, so the caller can
// fall back to other policy (RFC 7672 3.1.3).
func Verify(records []TLSA, chain []*x509.Certificate, names []string, now time.Time) error {
	usable := UsableRecords(records)
	if len(usable) == 0 {
		return ErrNoUsableTLSA
	}
	if len(chain) == 0 {
		return errors.New("server sent no certificate")
	}
	leaf := chain[0]
	var taErr error
	for _, r := range usable {
		switch r.Usage {
		case UsageDANEEE:
			// RFC 7672 3.1.1: the key is the authority; names and validity
			// dates are deliberately not checked.
			if r.Matches(leaf) {
				return nil
			}
		case UsageDANETA:
			for _, cert := range chain {
				if !r.Matches(cert) {
					continue
				}
				// RFC 7672 3.1.2: the matched certificate is a trust
				// anchor; the leaf must chain to it and carry a reference
				// identifier (RFC 7672 3.2.2).
				if err := chainsTo(leaf, cert, chain[1:], names, now); err != nil {
					taErr = err
					continue
				}
				return nil
			}
		}
	}
	if taErr != nil {
		return fmt.Errorf("DANE-TA: %w", taErr)
	}
	return fmt.Errorf("certificate matches none of %d usable TLSA records", len(usable))
}

// chainsTo verifies leaf up to anchor through the presented intermediates
// and checks that it is valid for one of names.
func chainsTo(leaf, anchor *x509.Certificate, presented []*x509.Certificate, names []string, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(anchor)
	inter := x509.NewCertPool()
	for _, c := range presented {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, // RFC 7672 puts no demands on key usage
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		// VerifyHostname handles the "*." wildcard of RFC 7672 3.2.3.
		if n = strings.TrimSuffix(n, "."); n != "" && leaf.VerifyHostname(n) == nil {
			return nil
		}
	}
	return fmt.Errorf("certificate is not valid for %s", strings.Join(names, " or "))
}
