package devnet

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"testing"

	"github.com/miekg/dns"
)

func TestDNSAuthenticated(t *testing.T) {
	t.Parallel()
	d := startTestDNS(t)
	d.AddZoneMX("signed.test", "mx.signed.test", net.ParseIP("127.0.0.1"))
	d.AddZoneMX("plain.test", "mx.plain.test", net.ParseIP("127.0.0.1"))
	d.SetAuthenticated("Signed.Test")
	d.SetRcode("bogus.signed.test", dns.RcodeServerFailure)

	ask := func(name string, do, ad bool) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		m.AuthenticatedData = ad
		if do {
			m.SetEdns0(4096, true)
		}
		resp, err := dns.Exchange(m, d.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tc := range []struct {
		name   string
		do, ad bool
		want   bool
	}{
		{"mx.signed.test", true, false, true},
		{"mx.signed.test", false, true, true},
		{"mx.signed.test", false, false, false}, // the query did not ask
		{"signed.test", true, true, true},
		{"missing.signed.test", true, true, true}, // authenticated denial
		{"bogus.signed.test", true, true, false},  // SERVFAIL is never secure
		{"mx.plain.test", true, true, false},
		{"unsigned.test", true, true, false}, // a suffix, not a subdomain
	} {
		resp := ask(tc.name, tc.do, tc.ad)
		if resp.AuthenticatedData != tc.want {
			t.Errorf("%s do=%v ad=%v: AD %v, want %v", tc.name, tc.do, tc.ad, resp.AuthenticatedData, tc.want)
		}
		if opt := resp.IsEdns0(); tc.do && (opt == nil || !opt.Do()) {
			t.Errorf("%s: DO bit not echoed", tc.name)
		}
	}
}

func TestTLSAData(t *testing.T) {
	t.Parallel()
	cert, err := SelfSigned("mx.test")
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)
	if got := hex.EncodeToString(TLSAData(cert.Leaf, 1, 1)); got != hex.EncodeToString(spki[:]) {
		t.Errorf("3 1 1 data %s", got)
	}
	if got := TLSAData(cert.Leaf, 0, 0); string(got) != string(cert.Leaf.Raw) {
		t.Error("0 0 data is not the certificate")
	}
	if len(TLSAData(cert.Leaf, 0, 2)) != 64 || TLSAData(cert.Leaf, 2, 1) != nil || TLSAData(cert.Leaf, 1, 3) != nil {
		t.Error("unexpected lengths for SHA-512 or unknown parameters")
	}
}
