package tlssec_test

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// env is a loopback internet for one test: DNS, a CA, an MTA-STS web
// server, receivers, and a clock the test moves.
type env struct {
	t      *testing.T
	dns    *devnet.DNS
	ca     *devnet.CA
	policy *devnet.PolicyServer

	mu  sync.Mutex
	now time.Time
}

func newEnv(t *testing.T) *env {
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
	p := devnet.StartPolicyServer(ca)
	t.Cleanup(p.Close)
	return &env{t: t, dns: d, ca: ca, policy: p, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// sts returns an STS client on this net with its own cache.
func (e *env) sts() *tlssec.STS {
	return &tlssec.STS{
		Resolver: e.dns.Resolver(),
		Client:   e.policy.Client(),
		Cache:    tlssec.NewMemoryCache(e.clock),
		Now:      e.clock,
		Timeout:  2 * time.Second,
	}
}

// publish announces a policy for domain with TXT id.
func (e *env) publish(domain, id, body string) {
	e.dns.Remove("_mta-sts." + domain)
	e.dns.AddTXT("_mta-sts."+domain, "v=STSv1; id="+id)
	e.policy.SetPolicy(domain, body)
}

// receiver starts a receiver on addr ("" for 127.0.0.1:0) with cert, or
// without STARTTLS if cert is nil.
func (e *env) receiver(addr string, cert *tls.Certificate) *devnet.Receiver {
	e.t.Helper()
	r, err := devnet.StartReceiver(devnet.ReceiverOptions{Addr: addr, TLSCert: cert})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

// issue returns a CA certificate for hosts.
func (e *env) issue(hosts ...string) *tls.Certificate {
	e.t.Helper()
	c, err := e.ca.Issue(hosts...)
	if err != nil {
		e.t.Fatal(err)
	}
	return &c
}

// secondAddr returns an address on 127.0.0.2 with the same port as r, so
// that two MX hosts can be told apart while sharing one port override.
func secondAddr(t *testing.T, r *devnet.Receiver) string {
	_, port, _ := net.SplitHostPort(r.Addr())
	addr := net.JoinHostPort("127.0.0.2", port)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	ln.Close()
	return addr
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
