package tlssec_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sealpost/sealpost/internal/tlssec"
)

func TestDNSSECLookups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.dns
	d.AddZoneMX("signed.test", "mx.signed.test", net.ParseIP("127.0.0.1"), net.ParseIP("::1"))
	d.AddTLSA("_25._tcp.mx.signed.test", 3, 1, 1, make([]byte, 32))
	d.AddTLSA("_25._tcp.mx.signed.test", 2, 0, 1, make([]byte, 32))
	d.SetAuthenticated("signed.test")
	d.AddZoneMX("plain.test", "mx.plain.test", net.ParseIP("127.0.0.1"))
	d.AddTLSA("_25._tcp.mx.plain.test", 3, 1, 1, make([]byte, 32))
	d.SetRcode("_25._tcp.broken.signed.test", dns.RcodeServerFailure)
	s := &tlssec.DNSSEC{Server: d.Addr(), Timeout: 2 * time.Second}
	ctx := ctxFor(t)

	recs, ad, err := s.LookupTLSA(ctx, "mx.signed.test.", 25)
	if err != nil || !ad || len(recs) != 2 || recs[0].String() != "3 1 1 "+zeros(32) {
		t.Errorf("signed TLSA: %v, ad=%v, %v", recs, ad, err)
	}
	if recs, ad, err := s.LookupTLSA(ctx, "mx.plain.test", 25); err != nil || ad || len(recs) != 1 {
		t.Errorf("unsigned TLSA: %v, ad=%v, %v", recs, ad, err)
	}
	// NXDOMAIN and NODATA: no records, no error, and a secure denial.
	if recs, ad, err := s.LookupTLSA(ctx, "nx.signed.test", 25); err != nil || !ad || len(recs) != 0 {
		t.Errorf("NXDOMAIN: %v, ad=%v, %v", recs, ad, err)
	}
	if recs, _, err := s.LookupTLSA(ctx, "mx.signed.test", 587); err != nil || len(recs) != 0 {
		t.Errorf("other port: %v, %v", recs, err)
	}
	// RFC 7672 2.1.1: SERVFAIL is an error, never "no records".
	if _, _, err := s.LookupTLSA(ctx, "broken.signed.test", 25); !errors.Is(err, tlssec.ErrLookup) {
		t.Errorf("SERVFAIL: %v", err)
	}

	if mxs, ad, err := s.LookupMXSecure(ctx, "signed.test"); err != nil || !ad || len(mxs) != 1 || mxs[0].Host != "mx.signed.test." {
		t.Errorf("signed MX: %v, ad=%v, %v", mxs, ad, err)
	}
	if _, ad, err := s.LookupMXSecure(ctx, "plain.test"); err != nil || ad {
		t.Errorf("unsigned MX: ad=%v, %v", ad, err)
	}
	if addrs, ad, err := s.LookupAddrSecure(ctx, "mx.signed.test"); err != nil || !ad || len(addrs) != 2 {
		t.Errorf("signed addresses: %v, ad=%v, %v", addrs, ad, err)
	}
	if addrs, ad, err := s.LookupAddrSecure(ctx, "mx.plain.test"); err != nil || ad || len(addrs) != 1 {
		t.Errorf("unsigned addresses: %v, ad=%v, %v", addrs, ad, err)
	}

	dead := &tlssec.DNSSEC{Server: "127.0.0.1:1", Timeout: 200 * time.Millisecond}
	if _, _, err := dead.LookupTLSA(ctx, "mx.signed.test", 25); !errors.Is(err, tlssec.ErrLookup) {
		t.Errorf("unreachable resolver: %v", err)
	}
}

func zeros(n int) string {
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
