package tlssec_test

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// prober returns a prober for receivers on port.
func (e *env) prober(port int) *tlssec.Prober {
	return &tlssec.Prober{
		Resolver: e.dns.Resolver(),
		DNSSEC:   &tlssec.DNSSEC{Server: e.dns.Addr(), Timeout: 2 * time.Second},
		STS:      e.sts(),
		RootCAs:  e.ca.Pool(),
		Port:     port,
		HeloName: "probe.sealpost.test",
		Timeout:  3 * time.Second,
	}
}

func tlsaName(host string, port int) string {
	return "_" + strconv.Itoa(port) + "._tcp." + host
}

func TestProbeSingleHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lo := net.ParseIP("127.0.0.1")
	good := e.receiver("", e.issue("mx.good.test"))
	self, _ := devnet.SelfSigned("mx.self.test")
	selfSigned := e.receiver("", &self)
	plain := e.receiver("", nil)
	e.dns.AddZoneMX("good.test", "mx.good.test", lo)
	e.dns.AddZoneMX("self.test", "mx.self.test", lo)
	e.dns.AddZoneMX("plain.test", "mx.plain.test", lo)

	probe := func(r *devnet.Receiver, domain string) *tlssec.Capability {
		t.Helper()
		c, err := e.prober(r.Port()).Probe(ctxFor(t), domain)
		if err != nil {
			t.Fatalf("%s: %v", domain, err)
		}
		if len(c.MX) != 1 {
			t.Fatalf("%s: %d MX results", domain, len(c.MX))
		}
		return c
	}

	c := probe(good, "Good.Test.")
	h := c.MX[0]
	if c.Domain != "good.test" || !c.VerifiedTLS || h.Host != "mx.good.test" || !h.STARTTLS || h.Version != "TLSv1.3" ||
		h.Cipher == "" || !h.CertVerified || h.CertError != "" || h.DANE != "" || h.Addr != good.Addr() {
		t.Errorf("verified host: %+v, %+v", c, h)
	}
	if good.Count() != 0 {
		t.Error("the probe sent a message")
	}

	c = probe(selfSigned, "self.test")
	if h := c.MX[0]; c.VerifiedTLS || !h.STARTTLS || h.CertVerified || !strings.Contains(h.CertError, "unknown authority") {
		t.Errorf("self-signed host: %+v", h)
	}
	c = probe(plain, "plain.test")
	if h := c.MX[0]; c.VerifiedTLS || h.STARTTLS || h.Version != "" || h.Error != "" {
		t.Errorf("plain host: %+v", h)
	}

	// A certificate from a trusted CA for another name does not verify.
	wrong := e.receiver("", e.issue("mx.other.test"))
	e.dns.AddZoneMX("wrong.test", "mx.wrong.test", lo)
	c = probe(wrong, "wrong.test")
	if h := c.MX[0]; c.VerifiedTLS || h.CertVerified || !strings.Contains(h.CertError, "mx.wrong.test") {
		t.Errorf("wrong-name host: %+v", h)
	}

	if _, err := e.prober(good.Port()).Probe(ctxFor(t), "nx.test"); err == nil {
		t.Error("a domain without MX or address probed without error")
	}
	e.dns.AddMX("null.test", ".", 0)
	if c, err := e.prober(good.Port()).Probe(ctxFor(t), "null.test"); err != nil || len(c.MX) != 0 || c.VerifiedTLS {
		t.Errorf("null MX: %+v, %v", c, err)
	}
}

// TestProbeTwoHosts checks that one host without TLS makes the domain
// unverified: mail may go to either.
func TestProbeTwoHosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := e.receiver("", e.issue("mx1.two.test"))
	plain := e.receiver(secondAddr(t, good), nil)
	e.dns.AddMX("two.test", "mx1.two.test", 10)
	e.dns.AddA("mx1.two.test", net.ParseIP("127.0.0.1"))
	e.dns.AddMX("two.test", "mx2.two.test", 20)
	e.dns.AddA("mx2.two.test", net.ParseIP("127.0.0.2"))

	c, err := e.prober(good.Port()).Probe(ctxFor(t), "two.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.MX) != 2 || c.MX[0].Host != "mx1.two.test" || !c.MX[0].CertVerified || c.MX[1].STARTTLS || c.VerifiedTLS {
		t.Errorf("capability %+v", c)
	}
	if plain.Connections() != 1 || good.Connections() != 1 {
		t.Errorf("connections: good %d, plain %d", good.Connections(), plain.Connections())
	}
}

func TestProbeDANE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lo := net.ParseIP("127.0.0.1")
	self, _ := devnet.SelfSigned("mx.dane.test")
	r := e.receiver("", &self)
	other, _ := devnet.SelfSigned("mx.dane.test")
	port := r.Port()
	for _, d := range []string{"valid", "mismatch", "insecure", "servfail", "pkix"} {
		e.dns.AddZoneMX(d+".test", "mx."+d+".test", lo)
		if d != "insecure" {
			e.dns.SetAuthenticated(d + ".test")
		}
	}
	e.dns.AddTLSA(tlsaName("mx.valid.test", port), 3, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	e.dns.AddTLSA(tlsaName("mx.mismatch.test", port), 3, 1, 1, devnet.TLSAData(other.Leaf, 1, 1))
	e.dns.AddTLSA(tlsaName("mx.insecure.test", port), 3, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	e.dns.SetRcode(tlsaName("mx.servfail.test", port), dns.RcodeServerFailure)
	e.dns.AddTLSA(tlsaName("mx.pkix.test", port), 1, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))

	for _, tc := range []struct {
		domain   string
		dane     string
		errText  string
		verified bool
	}{
		// DANE-EE authenticates a self-signed certificate no CA vouches for.
		{"valid.test", tlssec.DANEValid, "", true},
		{"mismatch.test", tlssec.DANEMismatch, "matches none", false},
		{"insecure.test", "", "", false}, // records without AD are ignored
		{"servfail.test", "", "SERVFAIL", false},
		{"pkix.test", "", "", false}, // unusable for SMTP
	} {
		c, err := e.prober(port).Probe(ctxFor(t), tc.domain)
		if err != nil {
			t.Fatalf("%s: %v", tc.domain, err)
		}
		h := c.MX[0]
		if h.DANE != tc.dane || c.VerifiedTLS != tc.verified || h.CertVerified || !strings.Contains(h.DANEError, tc.errText) {
			t.Errorf("%s: %+v, verified %v", tc.domain, h, c.VerifiedTLS)
		}
	}

	// A CA-valid certificate does not save a host whose TLSA records it
	// does not match (RFC 7672 2.2).
	good := e.receiver("", e.issue("mx.both.test"))
	e.dns.AddZoneMX("both.test", "mx.both.test", lo)
	e.dns.SetAuthenticated("both.test")
	e.dns.AddTLSA(tlsaName("mx.both.test", good.Port()), 3, 1, 1, devnet.TLSAData(other.Leaf, 1, 1))
	c, _ := e.prober(good.Port()).Probe(ctxFor(t), "both.test")
	if h := c.MX[0]; !h.CertVerified || h.DANE != tlssec.DANEMismatch || c.VerifiedTLS {
		t.Errorf("CA-valid DANE mismatch: %+v", c)
	}
	// DANE-TA: the CA root as trust anchor.
	e.dns.Remove(tlsaName("mx.both.test", good.Port()))
	root := chain(t, e.issue("x.test").Certificate)[1]
	e.dns.AddTLSA(tlsaName("mx.both.test", good.Port()), 2, 0, 1, devnet.TLSAData(root, 0, 1))
	c, _ = e.prober(good.Port()).Probe(ctxFor(t), "both.test")
	if h := c.MX[0]; h.DANE != tlssec.DANEValid || !c.VerifiedTLS {
		t.Errorf("DANE-TA: %+v", c)
	}
}

func TestProbeMTASTSAndCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.receiver("", e.issue("mx.a.test", "mx.b.test", "mx.c.test", "mx.d.test"))
	for _, d := range []string{"a", "b", "c", "d"} {
		e.dns.AddZoneMX(d+".test", "mx."+d+".test", net.ParseIP("127.0.0.1"))
	}
	e.publish("a.test", "1", "version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 600\n")
	e.publish("b.test", "1", "version: STSv1\nmode: testing\nmx: mx.b.test\nmax_age: 600\n")
	e.publish("c.test", "1", "version: STSv1\nmode: none\nmax_age: 600\n")
	e.dns.AddTXT("_mta-sts.d.test", "v=STSv1; id=1") // announced, never served

	cache := tlssec.NewMemoryCache(nil)
	p := e.prober(r.Port())
	p.Cache = cache
	for domain, want := range map[string]string{"a.test": "enforce", "b.test": "testing", "c.test": "none", "d.test": ""} {
		c, err := p.Probe(ctxFor(t), domain)
		if err != nil || c.MTASTS != want || !c.VerifiedTLS {
			t.Errorf("%s: %+v, %v; want mode %q", domain, c, err, want)
		}
		if (domain == "d.test") != (c.MTASTSError != "") {
			t.Errorf("%s: MTA-STS error %q", domain, c.MTASTSError)
		}
	}
	conns := r.Connections()
	c, err := p.Probe(ctxFor(t), "a.test")
	if err != nil || r.Connections() != conns || c.MTASTS != "enforce" {
		t.Errorf("second probe: %+v, %v, connections %d -> %d", c, err, conns, r.Connections())
	}
	// The cache holds JSON, for a database-backed cache to store.
	val, ok := cache.Get(ctxFor(t), "tls-capability:a.test")
	var back tlssec.Capability
	if !ok || json.Unmarshal(val, &back) != nil || back.Domain != "a.test" || len(back.MX) != 1 || !back.VerifiedTLS {
		t.Errorf("cached value %s", val)
	}
}

// TestProbeFreshIgnoresTheCache: a fresh probe reaches the MX host and
// fetches the MTA-STS policy although both are cached, reports its own
// time, and leaves its result for Probe.
func TestProbeFreshIgnoresTheCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.receiver("", e.issue("mx.f.test"))
	e.dns.AddZoneMX("f.test", "mx.f.test", net.ParseIP("127.0.0.1"))
	e.publish("f.test", "1", "version: STSv1\nmode: enforce\nmx: mx.f.test\nmax_age: 600\n")
	p := e.prober(r.Port())
	p.Cache = tlssec.NewMemoryCache(nil)
	first, err := p.Probe(ctxFor(t), "f.test")
	if err != nil || first.MTASTS != "enforce" {
		t.Fatalf("first probe: %+v, %v", first, err)
	}
	conns, fetches := r.Connections(), e.policy.Fetches("f.test")
	time.Sleep(2 * time.Millisecond)
	fresh, err := p.ProbeFresh(ctxFor(t), "F.test.")
	if err != nil || fresh.MTASTS != "enforce" || !fresh.VerifiedTLS {
		t.Fatalf("fresh probe: %+v, %v", fresh, err)
	}
	if r.Connections() != conns+1 || e.policy.Fetches("f.test") != fetches+1 {
		t.Errorf("fresh probe used the cache: connections %d -> %d, policy fetches %d -> %d",
			conns, r.Connections(), fetches, e.policy.Fetches("f.test"))
	}
	if !fresh.CheckedAt.After(first.CheckedAt) {
		t.Errorf("fresh probe checked at %v, the cached one at %v", fresh.CheckedAt, first.CheckedAt)
	}
	again, err := p.Probe(ctxFor(t), "f.test")
	if err != nil || !again.CheckedAt.Equal(fresh.CheckedAt) || r.Connections() != conns+1 {
		t.Errorf("Probe after ProbeFresh: %+v, %v, connections %d", again, err, r.Connections())
	}
}
