//go:build cgo && linux

package dkimsign

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// The few libcrypto (OpenSSL 3) entry points an RSA signature needs, resolved at run
// time: the build needs neither OpenSSL's headers nor its library, and a machine
// without libcrypto.so.3 signs with Go's crypto/rsa instead.
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_st EVP_MD;

static EVP_PKEY *(*sp_d2i_PrivateKey)(int, EVP_PKEY **, const unsigned char **, long);
static void (*sp_EVP_PKEY_free)(EVP_PKEY *);
static EVP_PKEY_CTX *(*sp_EVP_PKEY_CTX_new)(EVP_PKEY *, void *);
static void (*sp_EVP_PKEY_CTX_free)(EVP_PKEY_CTX *);
static int (*sp_EVP_PKEY_sign_init)(EVP_PKEY_CTX *);
static int (*sp_EVP_PKEY_CTX_set_rsa_padding)(EVP_PKEY_CTX *, int);
static int (*sp_EVP_PKEY_CTX_set_signature_md)(EVP_PKEY_CTX *, const EVP_MD *);
static int (*sp_EVP_PKEY_sign)(EVP_PKEY_CTX *, unsigned char *, size_t *, const unsigned char *, size_t);
static const EVP_MD *(*sp_EVP_sha256)(void);
static void (*sp_ERR_clear_error)(void);
static const char *(*sp_OpenSSL_version)(int);

// sp_load opens libcrypto and resolves every entry point; it returns NULL or what
// was missing.
static const char *sp_load(void) {
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) return dlerror();
#define SP_SYM(name) if (!(*(void **)(&sp_##name) = dlsym(h, #name))) return #name;
	SP_SYM(d2i_PrivateKey)
	SP_SYM(EVP_PKEY_free)
	SP_SYM(EVP_PKEY_CTX_new)
	SP_SYM(EVP_PKEY_CTX_free)
	SP_SYM(EVP_PKEY_sign_init)
	SP_SYM(EVP_PKEY_CTX_set_rsa_padding)
	SP_SYM(EVP_PKEY_CTX_set_signature_md)
	SP_SYM(EVP_PKEY_sign)
	SP_SYM(EVP_sha256)
	SP_SYM(ERR_clear_error)
	SP_SYM(OpenSSL_version)
#undef SP_SYM
	return NULL;
}

static const char *sp_version(void) { return sp_OpenSSL_version(0); }

// sp_parse reads a PKCS#1 RSAPrivateKey.
static EVP_PKEY *sp_parse(const unsigned char *der, long n) {
	EVP_PKEY *k = sp_d2i_PrivateKey(6, NULL, &der, n); // 6: EVP_PKEY_RSA
	if (!k) sp_ERR_clear_error();
	return k;
}

static void sp_free(EVP_PKEY *k) { sp_EVP_PKEY_free(k); }

// sp_sign makes an RSASSA-PKCS1-v1_5 signature of a SHA-256 digest into sig, which
// holds exactly the key's size: the DigestInfo prefix is added here, as Go's
// rsa.SignPKCS1v15 adds it. It returns 1 only for a signature that fills sig.
static int sp_sign(EVP_PKEY *k, const unsigned char *digest, size_t dlen, unsigned char *sig, size_t siglen) {
	EVP_PKEY_CTX *ctx = sp_EVP_PKEY_CTX_new(k, NULL);
	if (!ctx) { sp_ERR_clear_error(); return 0; }
	size_t n = siglen;
	int ok = sp_EVP_PKEY_sign_init(ctx) > 0
		&& sp_EVP_PKEY_CTX_set_rsa_padding(ctx, 1) > 0 // 1: RSA_PKCS1_PADDING
		&& sp_EVP_PKEY_CTX_set_signature_md(ctx, sp_EVP_sha256()) > 0
		&& sp_EVP_PKEY_sign(ctx, sig, &n, digest, dlen) > 0
		&& n == siglen;
	sp_EVP_PKEY_CTX_free(ctx);
	if (!ok) sp_ERR_clear_error();
	return ok;
}
*/
import "C"

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// libcrypto is loaded once, on first use.
var libcrypto struct {
	once    sync.Once
	version string // "" when not loaded
	err     error
}

func loadLibcrypto() {
	libcrypto.once.Do(func() {
		if missing := C.sp_load(); missing != nil {
			libcrypto.err = errors.New("libcrypto.so.3: " + C.GoString(missing))
			return
		}
		libcrypto.version = C.GoString(C.sp_version())
	})
}

// opensslRSA signs with OpenSSL what Go's crypto/rsa would sign with key, the same
// bytes (PKCS#1 v1.5 is deterministic) at about a third of the CPU where the
// processor has the vector units OpenSSL uses. Anything but PKCS#1 v1.5 over SHA-256
// goes to key itself.
type opensslRSA struct {
	key  *rsa.PrivateKey
	pkey *C.EVP_PKEY
}

func (k *opensslRSA) Public() crypto.PublicKey { return k.key.Public() }

func (k *opensslRSA) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss || opts.HashFunc() != crypto.SHA256 || len(digest) != sha256.Size {
		return k.key.Sign(r, digest, opts)
	}
	sig := make([]byte, k.key.Size())
	ok := C.sp_sign(k.pkey, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)), (*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)))
	// The cleanup must not free pkey while it signs.
	runtime.KeepAlive(k)
	if ok == 0 {
		return nil, errors.New("dkimsign: OpenSSL could not sign")
	}
	return sig, nil
}

// accelerate returns an OpenSSL-backed signer for an RSA key, or nil when libcrypto
// is not here or does not agree with Go on a test signature.
func accelerate(key *rsa.PrivateKey) crypto.Signer {
	loadLibcrypto()
	if libcrypto.version == "" {
		return nil
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	pkey := C.sp_parse((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der)
	if pkey == nil {
		return nil
	}
	k := &opensslRSA{key: key, pkey: pkey}
	runtime.AddCleanup(k, func(p *C.EVP_PKEY) { C.sp_free(p) }, pkey)
	if !agrees(k, key) {
		return nil
	}
	return k
}

func rsaEngine() string {
	loadLibcrypto()
	if libcrypto.version == "" {
		return "go"
	}
	return libcrypto.version
}

// haveOpenSSLBuild says this build can call libcrypto.
const haveOpenSSLBuild = true

func libcryptoErr() error { return libcrypto.err }
