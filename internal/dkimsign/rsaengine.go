package dkimsign

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
)

// Accelerate returns a signer that makes the same signatures as key, faster where it
// can: an RSA key signs through the system's OpenSSL (libcrypto.so.3) when this build
// has cgo and the library is there; anything else is key itself. An RSA signature is
// the largest cost of a secure message (DKIM, once per copy), and OpenSSL's is about
// a third of Go's where the processor has the vector units it uses.
func Accelerate(key crypto.Signer) crypto.Signer {
	if rk, ok := key.(*rsa.PrivateKey); ok {
		if fast := accelerate(rk); fast != nil {
			return fast
		}
	}
	return key
}

// RSAEngine names what RSA signatures are made with: OpenSSL's version string, or
// "go" for crypto/rsa.
func RSAEngine() string { return rsaEngine() }

// agreementDigest is what a new fast signer signs once to prove it matches Go.
var agreementDigest = sha256.Sum256([]byte("sealpost: the engines must agree"))

// agrees reports whether fast signs as Go's crypto/rsa does with key. PKCS#1 v1.5
// signatures are deterministic, so the two must be equal byte for byte; a library
// that differs (a broken build, a key it read wrongly) is not used.
func agrees(fast crypto.Signer, key *rsa.PrivateKey) bool {
	want, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, agreementDigest[:])
	if err != nil {
		return false
	}
	got, err := fast.Sign(nil, agreementDigest[:], crypto.SHA256)
	return err == nil && bytes.Equal(got, want)
}
