// Package devnet is a local stand-in for the parts of the internet a mail
// server talks to: a certificate authority, an authoritative DNS server
// (which can also play a DNSSEC-validating resolver), receiving SMTP
// servers and an MTA-STS policy web server, all bound to loopback. It
// backs `sealpost dev` and the tests of the packages that deliver mail, so
// it must not depend on the testing package.
package devnet

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a throwaway root certificate authority. It is immutable after
// NewCA, so Issue may be called from many goroutines at once.
type CA struct {
	cert *x509.Certificate
	der  []byte
	key  crypto.Signer
}

// NewCA creates a fresh ECDSA P-256 root. Every run gets its own root so a
// leaked dev CA never outlives the process that trusted it.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devnet: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Sealpost devnet root", Organization: []string{"Sealpost devnet"}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew between processes
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // leaves only, no intermediates
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("devnet: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devnet: parse CA certificate: %w", err)
	}
	return &CA{cert: cert, der: der, key: key}, nil
}

// Issue returns a server certificate for the given DNS names and IP
// addresses, signed by the CA. The chain includes the root so that peers
// that log the chain see where it came from.
func (ca *CA) Issue(hosts ...string) (tls.Certificate, error) {
	return issue(ca.cert, ca.key, hosts)
}

// SelfSigned returns a certificate for hosts that chains to no CA at all; it
// stands in for a receiving server with a "bad" certificate.
func SelfSigned(hosts ...string) (tls.Certificate, error) {
	return issue(nil, nil, hosts)
}

// Pool returns a new pool holding only the CA's root, so callers may add to
// it without affecting each other.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// CertPEM returns the root certificate in PEM form, e.g. for an operator to
// import into a mail client during local testing.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
}

// issue signs a leaf with parent/parentKey, or self-signs it when parent is
// nil.
func issue(parent *x509.Certificate, parentKey crypto.Signer, hosts []string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		return tls.Certificate{}, errors.New("devnet: a certificate needs at least one host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devnet: generate leaf key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 3, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	signer := parentKey
	if parent == nil {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devnet: create leaf certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devnet: parse leaf certificate: %w", err)
	}
	chain := [][]byte{der}
	if parent != tmpl {
		chain = append(chain, parent.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// randomSerial returns a 128-bit serial; RFC 5280 4.1.2.2 requires positive
// serials of at most 20 octets, unique per issuer.
func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("devnet: serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}
