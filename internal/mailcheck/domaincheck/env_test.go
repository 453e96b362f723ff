package domaincheck

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/dkimsign"
)

// testEnv is a loopback internet: DNS, a CA, an HTTPS server for MTA-STS
// policies and a receiving SMTP server with a CA-issued certificate.
type testEnv struct {
	dns  *devnet.DNS
	ca   *devnet.CA
	recv *devnet.Receiver
	web  *httptest.Server

	mu       sync.Mutex
	policies map[string]string // Host header -> policy body
}

// newTestEnv starts the servers; mxNames are the host names the receiver's
// certificate covers.
func newTestEnv(t *testing.T, mxNames ...string) *testEnv {
	t.Helper()
	d, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{dns: d, ca: ca, policies: map[string]string{}}
	cert, err := ca.Issue(mxNames...)
	if err != nil {
		t.Fatal(err)
	}
	e.recv = startReceiver(t, &cert)

	web := httptest.NewUnstartedServer(http.HandlerFunc(e.servePolicy))
	webCert, err := ca.Issue("mta-sts.good.test", "mta-sts.broken.test", "mta-sts.unit.test")
	if err != nil {
		t.Fatal(err)
	}
	web.TLS = &tls.Config{Certificates: []tls.Certificate{webCert}}
	web.StartTLS()
	t.Cleanup(web.Close)
	e.web = web
	return e
}

func startReceiver(t *testing.T, cert *tls.Certificate) *devnet.Receiver {
	t.Helper()
	r, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "mx.test", TLSCert: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func (e *testEnv) servePolicy(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	body, ok := e.policies[r.Host]
	e.mu.Unlock()
	if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(body))
}

// setPolicy serves body as the MTA-STS policy of domain.
func (e *testEnv) setPolicy(domain, body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.policies["mta-sts."+domain] = body
}

// config returns a Config that reaches everything in the environment.
func (e *testEnv) config() Config {
	var dialer net.Dialer
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: e.ca.Pool()},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", e.web.Listener.Addr().String())
		},
	}}
	return Config{
		Resolver:   e.dns.Resolver(),
		Port:       e.recv.Port(),
		RootCAs:    e.ca.Pool(),
		HTTPClient: client,
		Timeout:    10 * time.Second,
		HeloName:   "checker.test",
	}
}

// dkimKey makes a key and returns its expectation and TXT owner name.
func dkimKey(t *testing.T, algo, selector, domain string) (DKIMExpect, string) {
	t.Helper()
	key, err := dkimsign.GenerateKey(algo)
	if err != nil {
		t.Fatal(err)
	}
	name, value, err := dkimsign.DNSRecord(selector, domain, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return DKIMExpect{Selector: selector, DNSValue: value}, name
}

// byName indexes checks by name.
func byName(t *testing.T, checks []Check) map[string]Check {
	t.Helper()
	want := []string{"mx", "spf", "dkim", "dmarc", "mta-sts", "tls-rpt", "starttls"}
	if len(checks) != len(want) {
		t.Fatalf("got %d checks, want %d", len(checks), len(want))
	}
	m := map[string]Check{}
	for i, c := range checks {
		if c.Name != want[i] {
			t.Fatalf("check %d is %q, want %q", i, c.Name, want[i])
		}
		m[c.Name] = c
	}
	return m
}

// expect asserts a check's status and that its fix contains fix.
func expect(t *testing.T, c Check, status Status, summary, fix string) {
	t.Helper()
	if c.Status != status || !strings.Contains(c.Summary, summary) || !strings.Contains(c.Fix, fix) {
		t.Errorf("%s: got %s %q fix %q details %q\nwant %s with summary containing %q and fix containing %q",
			c.Name, c.Status, c.Summary, c.Fix, c.Details, status, summary, fix)
	}
	if status != Pass && fix != "" && strings.ContainsAny(c.Fix, "\r\n") {
		t.Errorf("%s: fix is not one line: %q", c.Name, c.Fix)
	}
}
