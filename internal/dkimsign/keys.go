// Package dkimsign signs outgoing mail with DKIM (RFC 6376), using RSA or
// Ed25519 keys (RFC 8463), and manages the keys and the DNS records that
// publish them.
package dkimsign

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// rsaBits is the key size for new RSA keys: RFC 8301 3.2 requires at least
// 1024 bits and recommends 2048; larger keys no longer fit in one TXT
// string and trip up some DNS providers.
const rsaBits = 2048

// minRSABits is the smallest RSA key accepted, per RFC 8301 3.2.
const minRSABits = 1024

// GenerateKey creates a signing key; algo is "rsa" or "ed25519".
func GenerateKey(algo string) (crypto.Signer, error) {
	switch algo {
	case "rsa":
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case "ed25519":
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("unknown key algorithm %q (want rsa or ed25519)", algo)
}

// MarshalPrivateKey encodes key as a PKCS#8 "PRIVATE KEY" PEM block, the one
// format that holds both RSA and Ed25519 keys.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	if _, err := algorithm(key.Public()); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("dkimsign: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PEM key. Besides PKCS#8 it takes PKCS#1
// "RSA PRIVATE KEY", the format of keys made by older DKIM tooling that
// operators may import.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block in the key data")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (want PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("the private key cannot be read: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T is not a signing key", key)
	}
	if _, err := algorithm(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// algorithm returns the DKIM k= name for pub, rejecting keys DKIM cannot
// use or that are too weak to be trusted by verifiers.
func algorithm(pub crypto.PublicKey) (string, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return "", fmt.Errorf("RSA key of %d bits is too small (RFC 8301 3.2)", pub.N.BitLen())
		}
		return "rsa", nil
	case ed25519.PublicKey:
		return "ed25519", nil
	}
	return "", fmt.Errorf("unsupported key type %T (want RSA or Ed25519)", pub)
}

// DNSRecord returns the TXT record that publishes pub for selector at
// domain (RFC 6376 3.6.2.1): the owner name "<selector>._domainkey.<domain>"
// and a value like "v=DKIM1; k=rsa; p=...".
func DNSRecord(selector, domain string, pub crypto.PublicKey) (name, value string, err error) {
	algo, err := algorithm(pub)
	if err != nil {
		return "", "", err
	}
	if selector == "" || domain == "" {
		return "", "", errors.New("selector and domain are required")
	}
	var raw []byte
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		// A DER SubjectPublicKeyInfo, as `openssl rsa -pubout` makes in
		// RFC 6376 Appendix C and as every verifier accepts.
		if raw, err = x509.MarshalPKIXPublicKey(pub); err != nil {
			return "", "", fmt.Errorf("dkimsign: marshal public key: %w", err)
		}
	case ed25519.PublicKey:
		raw = pub // RFC 8463 4.2: the bare 32-byte key, not wrapped in ASN.1
	}
	name = strings.ToLower(selector + "._domainkey." + strings.TrimSuffix(domain, "."))
	value = "v=DKIM1; k=" + algo + "; p=" + base64.StdEncoding.EncodeToString(raw)
	return name, value, nil
}
