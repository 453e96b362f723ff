package devnet

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func startTestDNS(t *testing.T) *DNS {
	t.Helper()
	d, err := StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// query asks the server directly so tests can see rcodes and flags the Go
// resolver hides.
func query(t *testing.T, d *DNS, network, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(4096, false)
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, d.Addr())
	if err != nil {
		t.Fatalf("%s query %s: %v", network, name, err)
	}
	return resp
}

func TestDNSAnswers(t *testing.T) {
	t.Parallel()
	d := startTestDNS(t)
	d.AddZoneMX("Example.TEST", "MX.example.test", net.ParseIP("127.0.0.1"), net.ParseIP("::1"))
	d.AddMX("example.test", "mx2.example.test", 20)
	d.AddA("deep.sub.example.test", net.ParseIP("127.0.0.2"))
	d.AddTLSA("_25._tcp.mx.example.test", 3, 1, 1, []byte{0xde, 0xad})
	d.SetRcode("broken.test", dns.RcodeServerFailure)

	for _, network := range []string{"udp", "tcp"} {
		resp := query(t, d, network, "EXAMPLE.test", dns.TypeMX, false)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 2 || !resp.Authoritative {
			t.Fatalf("%s MX: rcode %d, %d answers, aa=%v", network, resp.Rcode, len(resp.Answer), resp.Authoritative)
		}
	}
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		n     int
	}{
		{"mx.example.test", dns.TypeA, dns.RcodeSuccess, 1},
		{"mx.example.test", dns.TypeAAAA, dns.RcodeSuccess, 1},
		{"mx.example.test", dns.TypeTXT, dns.RcodeSuccess, 0}, // NODATA
		{"sub.example.test", dns.TypeA, dns.RcodeSuccess, 0},  // empty non-terminal
		{"nope.example.test", dns.TypeA, dns.RcodeNameError, 0},
		{"other.invalid", dns.TypeMX, dns.RcodeNameError, 0},
		{"broken.test", dns.TypeMX, dns.RcodeServerFailure, 0},
		{"_25._tcp.mx.example.test", dns.TypeTLSA, dns.RcodeSuccess, 1},
	}
	for _, c := range cases {
		resp := query(t, d, "udp", c.name, c.qtype, true)
		if resp.Rcode != c.rcode || len(resp.Answer) != c.n {
			t.Errorf("%s %s: rcode %s, %d answers; want %s, %d", c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[resp.Rcode], len(resp.Answer), dns.RcodeToString[c.rcode], c.n)
		}
		if c.rcode == dns.RcodeNameError || (c.rcode == dns.RcodeSuccess && c.n == 0) {
			if len(resp.Ns) != 1 || resp.Ns[0].Header().Rrtype != dns.TypeSOA {
				t.Errorf("%s: negative answer without SOA: %v", c.name, resp.Ns)
			}
		}
	}
	if tlsa := query(t, d, "udp", "_25._tcp.mx.example.test", dns.TypeTLSA, false).Answer[0].(*dns.TLSA); tlsa.Certificate != "dead" {
		t.Errorf("TLSA data %q", tlsa.Certificate)
	}

	d.Remove("MX.example.test")
	if resp := query(t, d, "udp", "mx.example.test", dns.TypeA, false); resp.Rcode != dns.RcodeSuccess {
		t.Errorf("name with a TLSA record below it: rcode %s, want NOERROR", dns.RcodeToString[resp.Rcode])
	}
	d.Remove("_25._tcp.mx.example.test")
	if resp := query(t, d, "udp", "mx.example.test", dns.TypeA, false); resp.Rcode != dns.RcodeNameError {
		t.Errorf("after Remove: rcode %s", dns.RcodeToString[resp.Rcode])
	}
	d.SetRcode("broken.test", dns.RcodeSuccess)
	if resp := query(t, d, "udp", "broken.test", dns.TypeMX, false); resp.Rcode != dns.RcodeNameError {
		t.Errorf("after clearing rcode: %s", dns.RcodeToString[resp.Rcode])
	}
}

func TestDNSResolver(t *testing.T) {
	t.Parallel()
	d := startTestDNS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	long := strings.Repeat("abcdefghij", 60) + `with\backslash`
	d.AddTXT("s1._domainkey.example.test", long)
	d.AddZoneMX("example.test", "mx.example.test", net.ParseIP("127.0.0.1"))
	d.AddMX("null.test", ".", 0)
	d.SetRcode("broken.test", dns.RcodeServerFailure)
	// Enough data that a plain UDP answer is truncated and the resolver
	// must come back over TCP.
	for i := range 30 {
		d.AddTXT("big.example.test", strings.Repeat(string(rune('a'+i%26)), 200))
	}

	r := d.Resolver()
	txt, err := r.LookupTXT(ctx, "s1._domainkey.example.test.")
	if err != nil || len(txt) != 1 || txt[0] != long {
		t.Fatalf("LookupTXT = %q, %v", txt, err)
	}
	if parts := query(t, d, "udp", "s1._domainkey.example.test", dns.TypeTXT, true).Answer[0].(*dns.TXT).Txt; len(parts) != 3 {
		t.Errorf("long TXT split into %d strings, want 3", len(parts))
	}
	if resp := query(t, d, "udp", "big.example.test", dns.TypeTXT, false); !resp.Truncated {
		t.Error("oversized UDP answer not truncated")
	}
	if big, err := r.LookupTXT(ctx, "big.example.test."); err != nil || len(big) != 30 {
		t.Errorf("LookupTXT over TCP fallback: %d records, %v", len(big), err)
	}
	mx, err := ResolverFor(d.Addr()).LookupMX(ctx, "example.test.")
	if err != nil || len(mx) != 1 || mx[0].Host != "mx.example.test." {
		t.Fatalf("LookupMX = %v, %v", mx, err)
	}
	if null, err := r.LookupMX(ctx, "null.test."); err != nil || len(null) != 1 || null[0].Host != "." {
		t.Errorf("null MX = %v, %v", null, err)
	}
	var dnsErr *net.DNSError
	if _, err := r.LookupMX(ctx, "nx.test."); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("NXDOMAIN: %v", err)
	}
	if _, err := r.LookupMX(ctx, "broken.test."); !errors.As(err, &dnsErr) || !dnsErr.IsTemporary {
		t.Errorf("SERVFAIL: %v", err)
	}
}

func TestStartDNSFixedPortInUse(t *testing.T) {
	t.Parallel()
	d := startTestDNS(t)
	if _, err := StartDNS(d.Addr()); err == nil {
		t.Fatal("second server on the same port started")
	}
}
