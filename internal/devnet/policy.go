package devnet

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// PolicyServer is the HTTPS side of MTA-STS (RFC 8461 3.3) on loopback:
// it serves https://mta-sts.<domain>/.well-known/mta-sts.txt for any
// number of domains, with certificates from a CA issued on demand for the
// name the client asks for. It counts fetches so tests can see caching.
type PolicyServer struct {
	srv *httptest.Server
	ca  *CA

	mu       sync.Mutex
	handlers map[string]http.Handler // by policy host, "mta-sts.<domain>"
	fetches  map[string]int
	certs    map[string]*tls.Certificate
}

// StartPolicyServer starts a server whose certificates ca issues.
func StartPolicyServer(ca *CA) *PolicyServer {
	p := &PolicyServer{
		ca:       ca,
		handlers: make(map[string]http.Handler),
		fetches:  make(map[string]int),
		certs:    make(map[string]*tls.Certificate),
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.TLS = &tls.Config{GetCertificate: p.certificate, MinVersion: tls.VersionTLS12}
	p.srv.StartTLS()
	return p
}

// Close stops the server.
func (p *PolicyServer) Close() { p.srv.Close() }

// Addr returns the "host:port" the server listens on.
func (p *PolicyServer) Addr() string { return p.srv.Listener.Addr().String() }

// SetPolicy serves body as domain's policy, as text/plain.
func (p *PolicyServer) SetPolicy(domain, body string) {
	p.SetHandler(domain, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}))
}

// SetHandler answers requests for domain's policy host with h, for tests
// of odd servers: errors, redirects, wrong content types.
func (p *PolicyServer) SetHandler(domain string, h http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers["mta-sts."+strings.ToLower(domain)] = h
}

// RemovePolicy makes domain's policy URL answer 404.
func (p *PolicyServer) RemovePolicy(domain string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.handlers, "mta-sts."+strings.ToLower(domain))
}

// Fetches returns how many requests for domain's policy arrived.
func (p *PolicyServer) Fetches(domain string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches["mta-sts."+strings.ToLower(domain)]
}

// Client returns an HTTP client that trusts the CA and connects to this
// server whatever host a URL names, as if DNS pointed every mta-sts.
// name here.
func (p *PolicyServer) Client() *http.Client {
	var dialer net.Dialer
	addr := p.Addr()
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: p.ca.Pool(), MinVersion: tls.VersionTLS12},
	}}
}

func (p *PolicyServer) serve(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	host = strings.ToLower(host)
	p.mu.Lock()
	p.fetches[host]++
	h := p.handlers[host]
	p.mu.Unlock()
	if h == nil || r.URL.Path != "/.well-known/mta-sts.txt" {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// certificate issues, once per name, a certificate for the name the
// client sent in SNI.
func (p *PolicyServer) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	if name == "" {
		name = "localhost"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.certs[name]; ok {
		return c, nil
	}
	c, err := p.ca.Issue(name)
	if err != nil {
		return nil, err
	}
	p.certs[name] = &c
	return &c, nil
}
