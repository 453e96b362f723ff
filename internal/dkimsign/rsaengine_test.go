package dkimsign

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"runtime"
	"sync"
	"testing"
)

// requireEngine fails where this build should sign with OpenSSL and does not: a
// silent fall back to Go would leave the fast path untested.
func requireEngine(t *testing.T) {
	t.Helper()
	if haveOpenSSLBuild && RSAEngine() == "go" {
		t.Fatalf("this cgo build on %s did not load libcrypto.so.3: %v", runtime.GOOS, libcryptoErr())
	}
}

func TestAcceleratedRSASignsAsGoDoes(t *testing.T) {
	requireEngine(t)
	t.Logf("RSA engine: %s", RSAEngine())
	for _, bits := range []int{1024, 2048, 3072} {
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		fast := Accelerate(key)
		if haveOpenSSLBuild && RSAEngine() != "go" {
			if _, ok := fast.(*opensslRSA); !ok {
				t.Fatalf("%d bits: Accelerate returned %T", bits, fast)
			}
		}
		if !fast.Public().(*rsa.PublicKey).Equal(&key.PublicKey) {
			t.Fatalf("%d bits: public key differs", bits)
		}
		// Several goroutines at once: one key is shared by every delivery.
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 16; i++ {
					var msg [32]byte
					rand.Read(msg[:])
					d := sha256.Sum256(msg[:])
					want, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
					got, err := fast.Sign(rand.Reader, d[:], crypto.SHA256)
					if err != nil || !bytes.Equal(got, want) {
						errs <- "signature differs from crypto/rsa's"
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatalf("%d bits: %s", bits, e)
		}
	}
}

// Only PKCS#1 v1.5 over SHA-256 goes to OpenSSL; PSS and other hashes still sign,
// through Go, and verify.
func TestAcceleratedRSAOtherSchemes(t *testing.T) {
	requireEngine(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fast := Accelerate(key)
	d1 := sha1.Sum([]byte("x"))
	sig, err := fast.Sign(rand.Reader, d1[:], crypto.SHA1)
	if err != nil || rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA1, d1[:], sig) != nil {
		t.Fatalf("SHA-1: %v", err)
	}
	d := sha256.Sum256([]byte("x"))
	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	sig, err = fast.Sign(rand.Reader, d[:], pss)
	if err != nil || rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, d[:], sig, pss) != nil {
		t.Fatalf("PSS: %v", err)
	}
	if _, err := fast.Sign(rand.Reader, d[:10], crypto.SHA256); err == nil {
		t.Fatal("a short digest was signed")
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	if got := Accelerate(ed); !bytes.Equal(got.(ed25519.PrivateKey), ed) {
		t.Fatal("an Ed25519 key was replaced")
	}
}

func BenchmarkRSASign(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	for name, s := range map[string]crypto.Signer{"go": key, "engine": Accelerate(key)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
