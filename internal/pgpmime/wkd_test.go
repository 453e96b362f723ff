package pgpmime

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestZBase32 uses the example of draft-koch-openpgp-webkey-service 3.1.
func TestZBase32(t *testing.T) {
	t.Parallel()
	if got := wkdHash("Joe.Doe"); got != "iy9q119eutrkn8s1mk4r39qejnbu3n5q" {
		t.Errorf("wkdHash(Joe.Doe) = %s", got)
	}
	for in, want := range map[string]string{"": "", "\x00": "yy", "\xf0\xbf\xc7": "6n9hq"} {
		if got := zbase32([]byte(in)); got != want {
			t.Errorf("zbase32(%x) = %q, want %q", in, got, want)
		}
	}
}

// wkdServer is a loopback HTTPS server standing in for the web key directories of
// example.org (advanced method) and example.net (direct method only).
type wkdServer struct {
	mu     sync.Mutex
	files  map[string][]byte // path → body
	seen   []string          // request URIs
	client *http.Client
}

func newWKDServer(t *testing.T) *wkdServer {
	t.Helper()
	s := &wkdServer{files: map[string][]byte{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	cert, pool := testCert(t, "openpgpkey.example.org", "example.net", "openpgpkey.tarpit.example")
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	hosts := map[string]bool{"openpgpkey.example.org": true, "example.net": true, "openpgpkey.tarpit.example": true}
	s.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if !hosts[host] {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}
	return s
}

func (s *wkdServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Host+r.URL.RequestURI())
	body, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	switch {
	case r.Host == "openpgpkey.tarpit.example":
		<-r.Context().Done()
	case r.URL.Path == "/.well-known/openpgpkey/example.org/hu/"+wkdHash("broken"):
		http.Error(w, "oops", http.StatusInternalServerError)
	case !ok:
		http.NotFound(w, r)
	default:
		w.Write(body)
	}
}

func (s *wkdServer) put(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = body
}

func (s *wkdServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func TestWKDLookup(t *testing.T) {
	t.Parallel()
	g := newGPG(t)
	pat := g.genKey("Pat <pat@example.org>", "future-default", "default", "never")
	old := g.genKey("Pat <pat@example.org>", "future-default", "default", "never")
	g.revoke(old)
	other := g.genKey("Other <other@example.org>", "future-default", "default", "never")
	joe := g.genKey("Joe <joe@example.net>", "future-default", "default", "never")
	// GnuPG computes the same directory name as we do.
	if list := g.must(nil, "--with-wkd-hash", "--list-keys", pat); !bytes.Contains(list, []byte(wkdHash("pat")+"@example.org")) {
		t.Errorf("gpg --with-wkd-hash disagrees:\n%s", list)
	}

	s := newWKDServer(t)
	advanced := "/.well-known/openpgpkey/example.org/hu/"
	s.put(advanced+wkdHash("pat"), append(g.export(old), g.export(pat)...)) // revoked key first
	s.put(advanced+wkdHash("wrong"), g.export(other))
	s.put(advanced+wkdHash("big"), bytes.Repeat([]byte{0x99}, DefaultWKDMaxSize+1))
	s.put("/.well-known/openpgpkey/hu/"+wkdHash("joe"), g.export(joe))
	w := &WKD{Client: s.client, Timeout: 2 * time.Second}

	found := func(addr, fpr string) {
		t.Helper()
		key, raw, err := w.Lookup(context.Background(), addr)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if key.Fingerprint != fpr {
			t.Errorf("got key %s, want %s", key.Fingerprint, fpr)
		}
		if again, err := ParseKey(raw); err != nil || again.Fingerprint != fpr {
			t.Errorf("raw key does not parse back: %v", err)
		}
		if err := key.Check(addr, time.Now()); err != nil {
			t.Errorf("Check: %v", err)
		}
	}
	found("pat@example.org", pat)
	found("Pat <PAT@Example.Org>", pat)
	found("joe@example.net", joe) // openpgpkey.example.net does not exist: direct method

	failed := func(addr string, want error, timeout time.Duration) {
		t.Helper()
		w := &WKD{Client: s.client, Timeout: timeout}
		_, _, err := w.Lookup(context.Background(), addr)
		t.Logf("Lookup(%s): %v", addr, err)
		if err == nil || (want != nil && !errors.Is(err, want)) || (want == nil && errors.Is(err, ErrNotFound)) {
			t.Errorf("Lookup(%s) = %v, want %v", addr, err, want)
		}
		if local, _, _ := strings.Cut(addr, "@"); err != nil && strings.Contains(err.Error(), local) {
			t.Errorf("error names the local part: %v", err)
		}
	}
	failed("nobody@example.org", ErrNotFound, time.Second)
	failed("wrong@example.org", ErrNoUserID, time.Second)
	failed("someone@example.invalid", ErrNotFound, time.Second) // neither host exists
	failed("big@example.org", nil, time.Second)
	failed("broken@example.org", nil, time.Second)
	failed("slow@tarpit.example", nil, 100*time.Millisecond)
	failed("not-an-address", nil, time.Second)

	// The request carries the directory name and the local part as given (3.1).
	if _, _, err := w.Lookup(context.Background(), "Joe.Doe@Example.ORG"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Joe.Doe: %v", err)
	}
	want := "openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
	if reqs := s.requests(); !strings.Contains(strings.Join(reqs, "\n"), want) {
		t.Errorf("no request for %s in\n%s", want, strings.Join(reqs, "\n"))
	}
}

// testCert returns a self-signed certificate for names and a pool that trusts it.
func testCert(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, pool
}
