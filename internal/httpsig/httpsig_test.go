package httpsig

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The request of RFC 9421 Appendix B.2 (and RFC 9530's digest of its body).
const rfcRequest = "POST /foo?param=Value&Pet=dog HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"Date: Tue, 20 Apr 2021 02:07:55 GMT\r\n" +
	"Content-Type: application/json\r\n" +
	"Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\r\n" +
	"Content-Length: 18\r\n" +
	"\r\n" +
	`{"hello": "world"}`

// RFC 9421 B.1.4 and B.1.5.
const (
	rfcEd25519Public = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
	rfcEd25519Secret = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF"
	rfcSharedSecret  = "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="
)

func rfcReq(t *testing.T, sigInput, sig string) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rfcRequest)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Header.Set("Signature-Input", sigInput)
	r.Header.Set("Signature", sig)
	return r, body
}

func mustDER(t *testing.T, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC9421Vectors checks the RFC's own examples: B.2.6 (ed25519) byte for byte —
// ed25519 is deterministic, so signing our base with the RFC's key must give the RFC's
// signature — and B.2.5 (hmac-sha256); and the body's RFC 9530 digest.
func TestRFC9421Vectors(t *testing.T) {
	pubAny, err := x509.ParsePKIXPublicKey(mustDER(t, rfcEd25519Public))
	if err != nil {
		t.Fatal(err)
	}
	pub := pubAny.(ed25519.PublicKey)
	privAny, err := x509.ParsePKCS8PrivateKey(mustDER(t, rfcEd25519Secret))
	if err != nil {
		t.Fatal(err)
	}
	priv := privAny.(ed25519.PrivateKey)

	r, body := rfcReq(t, `sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`)
	s, err := Parse(r.Header, "sig-b26")
	if err != nil {
		t.Fatal(err)
	}
	base, err := Base(r, "https://example.com/foo?param=Value&Pet=dog", s)
	if err != nil {
		t.Fatal(err)
	}
	wantBase := `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`
	if string(base) != wantBase {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, wantBase)
	}
	if got := ed25519.Sign(priv, base); string(got) != string(s.Value) {
		t.Fatalf("our signature of the base differs from the RFC's")
	}
	if err := Verify(r, "https://example.com/foo?param=Value&Pet=dog", s, Ed25519Key(pub)); err != nil {
		t.Fatalf("B.2.6: %v", err)
	}
	if s.KeyID != "test-key-ed25519" || s.Created.Unix() != 1618884473 {
		t.Errorf("params: %+v", s)
	}
	if err := CheckDigest(r.Header, body); err != nil {
		t.Fatalf("RFC 9530 digest: %v", err)
	}
	if err := CheckDigest(r.Header, []byte(`{"hello": "world!"}`)); err == nil {
		t.Fatal("digest of another body accepted")
	}
	// Any change to a covered component breaks it.
	r.Header.Set("Content-Type", "application/jsonx")
	if err := Verify(r, "https://example.com/foo?param=Value&Pet=dog", s, Ed25519Key(pub)); err == nil {
		t.Fatal("tampered content-type verified")
	}

	r, _ = rfcReq(t, `sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`,
		`sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:`)
	s, err = Parse(r.Header, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(r, "https://example.com/foo?param=Value&Pet=dog", s, HMACKey(mustDER(t, rfcSharedSecret))); err != nil {
		t.Fatalf("B.2.5: %v", err)
	}
	if err := Verify(r, "https://example.com/foo?param=Value&Pet=dog", s, HMACKey([]byte("another secret"))); err == nil {
		t.Fatal("wrong HMAC secret verified")
	}
}

// FuzzParse: no input panics the parser.
func FuzzParse(f *testing.F) {
	f.Add(`sig=("@method" "@target-uri");created=1;keyid="k";nonce="n"`, `sig=:AAAA:`)
	f.Add(`sig=("x";sf);created=1`, `sig=?1`)
	f.Fuzz(func(t *testing.T, in, sig string) {
		h := http.Header{}
		h.Set("Signature-Input", in)
		h.Set("Signature", sig)
		s, err := Parse(h, "")
		if err == nil {
			r, _ := http.NewRequest("GET", "https://example.com/", nil)
			Base(r, "https://example.com/", s)
		}
	})
}

// BenchmarkVerifyEd25519 is the per-request cost of checking a signed request's
// signature and digest (a 1 KiB body), before any database read.
func BenchmarkVerifyEd25519(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	body := []byte(strings.Repeat("x", 1024))
	r, _ := http.NewRequest("POST", "https://api.example/v1/messages", strings.NewReader(string(body)))
	sum := sha256Sum(body)
	r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="k";nonce="n"`)
	r.Header.Set("Signature", "sig1=:AAAA:")
	s, _ := Parse(r.Header, "")
	base, _ := Base(r, "https://api.example/v1/messages", s)
	r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(ed25519.Sign(priv, base))+":")
	b.ReportAllocs()
	for b.Loop() {
		s, err := Parse(r.Header, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(r, "https://api.example/v1/messages", s, Ed25519Key(pub)); err != nil {
			b.Fatal(err)
		}
		if err := CheckDigest(r.Header, body); err != nil {
			b.Fatal(err)
		}
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
