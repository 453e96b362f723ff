package smime_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"

	"github.com/sealpost/sealpost/internal/smime"
)

func ExampleEncrypt() {
	// A recipient certificate; in practice it comes from ParseCertificate.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(1),
		EmailAddresses: []string{"dr.lee@clinic.example"},
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(time.Hour),
		KeyUsage:       x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := smime.ParseCertificate(der)

	if err := smime.CheckCertificate(cert, "dr.lee@clinic.example", time.Now()); err != nil {
		fmt.Println("unusable:", err)
		return
	}
	entity := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nReferral letter.\r\n")
	part, info, err := smime.Encrypt(entity, smime.Recipient{Cert: cert}, smime.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	firstLine, _, _ := bytes.Cut(part, []byte("\r\n"))
	fmt.Println(info.Algorithm, info.KeyEncryption)
	fmt.Printf("%s\n", firstLine)
	// Output:
	// AES-256-CBC RSA-PKCS1-v1_5
	// Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m
}
