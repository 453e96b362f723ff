package devnet

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"strings"

	"github.com/miekg/dns"
)

// SetAuthenticated marks zone as DNSSEC-secure: answers for names at or
// below it carry the AD bit whenever the query asked for DNSSEC (DO or AD
// set, RFC 6840 5.7 and RFC 4035 3.2.3). No records are actually signed.
// The server stands in for a local validating resolver such as unbound,
// and a mail client configured with such a resolver trusts its AD bit
// exactly as it trusts this one (RFC 6698 4.1, RFC 7672 2.1); what is
// tested is the client's reaction to secure and insecure answers, not the
// cryptography of DNSSEC.
func (d *DNS) SetAuthenticated(zone string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.secure == nil {
		d.secure = make(map[string]bool)
	}
	d.secure[canonical(zone)] = true
}

// authenticated reports whether name lies at or below a zone passed to
// SetAuthenticated. The caller holds d.mu.
func (d *DNS) authenticated(name string) bool {
	name = dns.CanonicalName(name)
	for zone := range d.secure {
		if name == zone || zone == "." || strings.HasSuffix(name, "."+zone) {
			return true
		}
	}
	return false
}

// markAuthenticated sets the AD bit on m if the query asked for DNSSEC
// and qname is in an authenticated zone. Only NOERROR and NXDOMAIN answers
// can be validated; a SERVFAIL is what a validator returns for bogus data.
func (d *DNS) markAuthenticated(m, req *dns.Msg) {
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError || len(req.Question) != 1 {
		return
	}
	opt := req.IsEdns0()
	if !req.AuthenticatedData && (opt == nil || !opt.Do()) {
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	m.AuthenticatedData = d.authenticated(req.Question[0].Name)
}

// TLSAData computes the association data of a TLSA record for cert
// (RFC 6698 2.1): selector 0 is the whole certificate and 1 its
// SubjectPublicKeyInfo; matching type 0 is the data itself, 1 its SHA-256
// and 2 its SHA-512 digest. Unknown values yield nil.
func TLSAData(cert *x509.Certificate, selector, mtype uint8) []byte {
	var data []byte
	switch selector {
	case 0:
		data = cert.Raw
	case 1:
		data = cert.RawSubjectPublicKeyInfo
	default:
		return nil
	}
	switch mtype {
	case 0:
		return append([]byte(nil), data...)
	case 1:
		sum := sha256.Sum256(data)
		return sum[:]
	case 2:
		sum := sha512.Sum512(data)
		return sum[:]
	}
	return nil
}
