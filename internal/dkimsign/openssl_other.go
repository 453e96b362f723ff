//go:build !(cgo && linux)

package dkimsign

import (
	"crypto"
	"crypto/rsa"
)

// Without cgo on Linux there is no libcrypto to call: RSA stays in crypto/rsa.
func accelerate(*rsa.PrivateKey) crypto.Signer { return nil }

func rsaEngine() string { return "go" }

const haveOpenSSLBuild = false

func libcryptoErr() error { return nil }
