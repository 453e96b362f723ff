package delivery_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// dnssec uses the net's DNS server as the validating resolver.
func (n *testNet) dnssec() *tlssec.DNSSEC {
	return &tlssec.DNSSEC{Server: n.dns.Addr(), Timeout: 2 * time.Second}
}

// signedMX publishes domain's MX in an authenticated zone, with a TLSA
// record for r's port if data is not nil.
func (n *testNet) signedMX(domain string, r *devnet.Receiver, usage, selector, mtype uint8, data []byte) {
	mx := "mx." + domain
	n.dns.AddZoneMX(domain, mx, net.ParseIP(localhost))
	n.dns.SetAuthenticated(domain)
	if data != nil {
		n.dns.AddTLSA(tlsaOwner(mx, r.Port()), usage, selector, mtype, data)
	}
}

func tlsaOwner(host string, port int) string { return "_" + strconv.Itoa(port) + "._tcp." + host }

func TestDeliverDANE(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	self, _ := devnet.SelfSigned("mx.ee.test")
	other, _ := devnet.SelfSigned("mx.ee.test")
	r := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	c := n.client(r.Port(), delivery.Config{DNSSEC: n.dnssec()})

	// DANE-EE authenticates a self-signed certificate no CA vouches for,
	// which also satisfies RequireTLS.
	n.signedMX("ee.test", r, 3, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	for _, require := range []bool{false, true} {
		res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@ee.test", RequireTLS: require}, strings.NewReader("m\r\n"))
		if err != nil {
			t.Fatalf("require=%v: %v", require, err)
		}
		if res.TLS == nil || !res.TLS.Verified || !res.TLS.DANE || res.TLS.VerifyError != "" {
			t.Errorf("require=%v: TLS %+v", require, res.TLS)
		}
	}

	// Mismatch: deferred, and never retried in plaintext.
	mis := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	n.signedMX("mis.test", mis, 3, 1, 1, devnet.TLSAData(other.Leaf, 1, 1))
	_, err := send(t, n.client(mis.Port(), delivery.Config{DNSSEC: n.dnssec()}), "x@mis.test")
	if de := wantDeferred(t, err, mis, delivery.StageTLS); !strings.Contains(de.Message, "DANE") {
		t.Errorf("mismatch: %+v", de)
	}
	if mis.Connections() != 1 {
		t.Errorf("mismatch: %d connections, want 1", mis.Connections())
	}

	// A certificate valid for the name by WebPKI does not help when the
	// TLSA records say otherwise (RFC 7672 2.2).
	ca := n.receiver("mx.pkixok.test", devnet.ReceiverOptions{})
	n.signedMX("pkixok.test", ca, 3, 1, 1, devnet.TLSAData(other.Leaf, 1, 1))
	_, err = send(t, n.client(ca.Port(), delivery.Config{DNSSEC: n.dnssec()}), "x@pkixok.test")
	wantDeferred(t, err, ca, delivery.StageTLS)

	// TLSA records, but no STARTTLS: deferred, no plaintext.
	plain := n.receiver("", devnet.ReceiverOptions{})
	n.signedMX("plain.test", plain, 3, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	_, err = send(t, n.client(plain.Port(), delivery.Config{DNSSEC: n.dnssec()}), "x@plain.test")
	if de := wantDeferred(t, err, plain, delivery.StageTLS); !strings.Contains(de.Message, "STARTTLS") {
		t.Errorf("no STARTTLS: %+v", de)
	}
}

func TestDeliverDANELookups(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	self, _ := devnet.SelfSigned("mx.dane.test")
	other, _ := devnet.SelfSigned("mx.dane.test")
	r := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	c := n.client(r.Port(), delivery.Config{DNSSEC: n.dnssec()})

	// RFC 7672 2.1.1: a TLSA lookup failure defers; nothing is sent.
	n.signedMX("fail.test", r, 0, 0, 0, nil)
	n.dns.SetRcode(tlsaOwner("mx.fail.test", r.Port()), dns.RcodeServerFailure)
	_, err := send(t, c, "x@fail.test")
	if de := wantError(t, err, true, delivery.StageDNS, 0); de.MX != "mx.fail.test" || r.Connections() != 0 {
		t.Errorf("TLSA SERVFAIL: %+v, %d connections", de, r.Connections())
	}

	// Records without the AD bit are ignored: opportunistic TLS as usual.
	n.dns.AddZoneMX("insecure.test", "mx.insecure.test", net.ParseIP(localhost))
	n.dns.AddTLSA(tlsaOwner("mx.insecure.test", r.Port()), 3, 1, 1, devnet.TLSAData(other.Leaf, 1, 1))
	res, err := send(t, c, "x@insecure.test")
	if err != nil || res.TLS == nil || res.TLS.DANE || res.TLS.Verified {
		t.Fatalf("insecure TLSA: %+v, %v", res, err)
	}

	// RFC 7672 2.2.1: a secure TLSA RRset of an MX host named by an
	// insecure MX RRset does not apply either.
	n.dns.AddZoneMX("unsigned.test", "mx.signed-host.test", net.ParseIP(localhost))
	n.dns.SetAuthenticated("signed-host.test")
	n.dns.AddTLSA(tlsaOwner("mx.signed-host.test", r.Port()), 3, 1, 1, devnet.TLSAData(other.Leaf, 1, 1))
	if res, err := send(t, c, "x@unsigned.test"); err != nil || res.TLS.DANE {
		t.Fatalf("insecure MX: %+v, %v", res, err)
	}

	// Only PKIX usages: unusable (RFC 7672 3.1.3), so no authentication,
	// but TLS stays mandatory (RFC 7672 2.2).
	n.signedMX("pkix.test", r, 1, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	if res, err := send(t, c, "x@pkix.test"); err != nil || res.TLS == nil || res.TLS.DANE || res.TLS.Verified {
		t.Fatalf("unusable TLSA: %+v, %v", res, err)
	}
	plain := n.receiver("", devnet.ReceiverOptions{})
	n.signedMX("pkixplain.test", plain, 1, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	_, err = send(t, n.client(plain.Port(), delivery.Config{DNSSEC: n.dnssec()}), "x@pkixplain.test")
	wantDeferred(t, err, plain, delivery.StageTLS)

	// Implicit MX: DANE applies when the domain's address is secure.
	n.dns.AddA("implicit.test", net.ParseIP(localhost))
	n.dns.SetAuthenticated("implicit.test")
	n.dns.AddTLSA(tlsaOwner("implicit.test", r.Port()), 3, 0, 2, devnet.TLSAData(self.Leaf, 0, 2))
	if res, err := send(t, c, "x@implicit.test"); err != nil || !res.TLS.DANE || res.MX != "implicit.test" {
		t.Fatalf("implicit MX: %+v, %v", res, err)
	}

	// The MX lookup through the validating resolver fails: defer.
	n.dns.AddZoneMX("mxfail.test", "mx.mxfail.test", net.ParseIP(localhost))
	bad := &tlssec.DNSSEC{Server: "127.0.0.1:1", Timeout: 200 * time.Millisecond}
	_, err = send(t, n.client(r.Port(), delivery.Config{DNSSEC: bad}), "x@mxfail.test")
	if de := wantError(t, err, true, delivery.StageDNS, 0); de.Enhanced != "4.4.3" {
		t.Errorf("validating resolver down: %+v", de)
	}
}

// TestDeliverDANEOverMTASTS checks that a host with usable TLSA records is
// judged by DANE alone, even when an enforced MTA-STS policy does not list
// it (RFC 8461 2).
func TestDeliverDANEOverMTASTS(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	p := n.policies()
	self, _ := devnet.SelfSigned("mx.both.test")
	r := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	n.signedMX("both.test", r, 3, 1, 1, devnet.TLSAData(self.Leaf, 1, 1))
	p.publish("both.test", "1", "enforce", "mx.elsewhere.test")
	c := n.client(r.Port(), delivery.Config{DNSSEC: n.dnssec(), STS: p.sts})
	res, err := send(t, c, "x@both.test")
	if err != nil || !res.TLS.DANE || !res.TLS.Verified || res.TLS.MTASTS != "" || res.TLSPolicyFailure != "" {
		t.Fatalf("%+v, %v", res, err)
	}
	// A pooled DANE session is not good enough for MTA-STS once the TLSA
	// records are gone: the self-signed certificate fails WebPKI.
	p.publish("both.test", "2", "enforce", "mx.both.test")
	n.dns.Remove(tlsaOwner("mx.both.test", r.Port()))
	_, err = send(t, c, "y@both.test")
	wantError(t, err, true, delivery.StageTLS, 0)
	if r.Count() != 1 {
		t.Errorf("receiver got %d messages, want 1", r.Count())
	}
}
