package delivery_test

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
)

func TestDeliverDNSFailures(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddMX("null.test", ".", 0)
	n.dns.SetRcode("broken.test", dns.RcodeServerFailure)
	n.dns.AddMX("dangling.test", "mx.nowhere.test", 10)
	n.dns.AddMX("mxfail.test", "mx.broken.test", 10)
	n.dns.SetRcode("mx.broken.test", dns.RcodeServerFailure)
	c := n.client(1, delivery.Config{})
	send := func(to string) error {
		_, err := c.Deliver(ctxFor(t), delivery.Envelope{From: "s@x.test", To: to}, strings.NewReader("m\r\n"))
		return err
	}

	if de := wantError(t, send("x@nxdomain.test"), false, delivery.StageDNS, 0); de.Enhanced != "5.1.2" {
		t.Errorf("NXDOMAIN: %+v", de)
	}
	if de := wantError(t, send("x@broken.test"), true, delivery.StageDNS, 0); de.Enhanced != "4.4.3" {
		t.Errorf("SERVFAIL: %+v", de)
	}
	if de := wantError(t, send("x@null.test"), false, delivery.StageDNS, 556); de.Enhanced != "5.1.10" {
		t.Errorf("null MX: %+v", de)
	}
	if de := wantError(t, send("x@dangling.test"), false, delivery.StageDNS, 0); de.MX != "mx.nowhere.test" {
		t.Errorf("MX without address: %+v", de)
	}
	wantError(t, send("x@mxfail.test"), true, delivery.StageDNS, 0)
}

// TestDeliverImplicitMX checks that a domain with an address but no MX
// receives mail itself (RFC 5321 5.1), as does an address literal.
func TestDeliverImplicitMX(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddA("implicit.test", net.ParseIP(localhost))
	n.dns.AddTXT("implicit.test", "v=spf1 -all") // the name exists with other data
	r := n.receiver("implicit.test", devnet.ReceiverOptions{})
	c := n.client(r.Port(), delivery.Config{})
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@Implicit.Test."}, strings.NewReader("m\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.MX != "implicit.test" || res.TLS == nil || !res.TLS.Verified {
		t.Errorf("result %+v, TLS %+v", res, res.TLS)
	}
	res, err = c.Deliver(ctxFor(t), delivery.Envelope{To: "x@[127.0.0.1]"}, strings.NewReader("m\r\n"))
	if err != nil || res.MX != localhost {
		t.Fatalf("address literal: %+v, %v", res, err)
	}
	if r.Count() != 2 {
		t.Errorf("receiver got %d messages", r.Count())
	}
}

// TestDeliverMXFallback checks the order of MX hosts and that a host that
// cannot be reached, or that refuses before the transaction, makes the
// client move on to the next.
func TestDeliverMXFallback(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	r := n.receiver("mx2.f.test", devnet.ReceiverOptions{})
	// 127.0.0.2 is loopback too, but nothing listens there: connection refused.
	n.dns.AddMX("f.test", "mx1.f.test", 10)
	n.dns.AddA("mx1.f.test", net.ParseIP("127.0.0.2"))
	n.dns.AddMX("f.test", "mx2.f.test", 20)
	n.dns.AddA("mx2.f.test", net.ParseIP(localhost))
	n.dns.AddMX("f.test", "mx3.f.test", 30)
	n.dns.AddA("mx3.f.test", net.ParseIP(localhost))

	c := n.client(r.Port(), delivery.Config{})
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@f.test"}, strings.NewReader("m\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.MX != "mx2.f.test" || !res.TLS.Verified {
		t.Errorf("delivered via %s, TLS %+v", res.MX, res.TLS)
	}

	// All hosts unreachable: temporary, and the error names a host.
	n.dns.AddZoneMX("down.test", "mx.down.test", net.ParseIP("127.0.0.2"))
	_, err = c.Deliver(ctxFor(t), delivery.Envelope{To: "x@down.test"}, strings.NewReader("m\r\n"))
	if de := wantError(t, err, true, delivery.StageConnect, 0); de.MX != "mx.down.test" || de.Enhanced != "4.4.1" {
		t.Errorf("unreachable: %+v", de)
	}
}

// TestDeliverGreetingRefused checks that a 554 greeting moves on to the
// next MX rather than bouncing.
func TestDeliverGreetingRefused(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	good := n.receiver("", devnet.ReceiverOptions{})
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("554 5.3.2 not accepting mail\r\n"))
			c.Close()
		}
	}()
	// Both hosts must share a port, so move the good one onto the bad one's.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	good.Close()
	good = n.receiver("", devnet.ReceiverOptions{Addr: net.JoinHostPort(localhost, port)})
	n.dns.AddZoneMX("g.test", "mx1.g.test", net.ParseIP("127.0.0.2"))
	n.dns.AddMX("g.test", "mx2.g.test", 20)
	n.dns.AddA("mx2.g.test", net.ParseIP(localhost))

	c := n.client(good.Port(), delivery.Config{})
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@g.test"}, strings.NewReader("m\r\n"))
	if err != nil || res.MX != "mx2.g.test" {
		t.Fatalf("result %+v, %v", res, err)
	}
	n.dns.Remove("mx2.g.test")
	_, err = n.client(good.Port(), delivery.Config{}).Deliver(ctxFor(t), delivery.Envelope{To: "x@g.test"}, strings.NewReader("m\r\n"))
	var de *delivery.Error
	if de = wantError(t, err, false, delivery.StageConnect, 554); de.Enhanced != "5.3.2" {
		t.Errorf("greeting refusal: %+v", de)
	}
}

// TestDeliverInternationalised checks that an IDN domain is looked up and
// sent in A-label form, and that a non-ASCII local part needs SMTPUTF8.
func TestDeliverInternationalised(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("xn--bcher-kva.test", "mx.xn--bcher-kva.test", net.ParseIP(localhost))
	r := n.receiver("", devnet.ReceiverOptions{})
	c := n.client(r.Port(), delivery.Config{})
	if _, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@Bücher.test"}, strings.NewReader("m\r\n")); err != nil {
		t.Fatal(err)
	}
	if to := r.Messages()[0].To[0]; to != "x@xn--bcher-kva.test" {
		t.Errorf("RCPT TO %q", to)
	}
	_, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "jörg@bücher.test"}, strings.NewReader("m\r\n"))
	if de := wantError(t, err, false, delivery.StageMail, 0); de.Enhanced != "5.6.7" {
		t.Errorf("non-ASCII local part: %+v", de)
	}
}
