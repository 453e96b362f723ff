package delivery_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// policies serves MTA-STS policies on this net.
type policies struct {
	n   *testNet
	web *devnet.PolicyServer
	sts *tlssec.STS
}

func (n *testNet) policies() *policies {
	web := devnet.StartPolicyServer(n.ca)
	n.t.Cleanup(web.Close)
	return &policies{n: n, web: web, sts: &tlssec.STS{
		Resolver: n.dns.Resolver(),
		Client:   web.Client(),
		Cache:    tlssec.NewMemoryCache(nil),
		Timeout:  2 * time.Second,
	}}
}

// publish announces policy text for domain under TXT id.
func (p *policies) publish(domain, id, mode string, mx ...string) {
	body := "version: STSv1\nmode: " + mode + "\n"
	for _, m := range mx {
		body += "mx: " + m + "\n"
	}
	body += "max_age: 86400\n"
	p.n.dns.Remove("_mta-sts." + domain)
	p.n.dns.AddTXT("_mta-sts."+domain, "v=STSv1; id="+id)
	p.web.SetPolicy(domain, body)
}

func send(t *testing.T, c *delivery.Client, to string) (*delivery.Result, error) {
	t.Helper()
	return c.Deliver(ctxFor(t), delivery.Envelope{From: "s@x.test", To: to}, strings.NewReader("m\r\n"))
}

// wantDeferred checks for the temporary 4.7.5 that a TLS policy failure
// gives, and that no message reached r.
func wantDeferred(t *testing.T, err error, r *devnet.Receiver, stage string) *delivery.Error {
	t.Helper()
	de := wantError(t, err, true, stage, 0)
	if de.Enhanced != "4.7.5" {
		t.Errorf("enhanced %q, want 4.7.5: %+v", de.Enhanced, de)
	}
	if strings.Contains(de.Error(), "@") {
		t.Errorf("error mentions an address: %v", de)
	}
	if r.Count() != 0 {
		t.Errorf("receiver got %d messages", r.Count())
	}
	return de
}

func TestDeliverMTASTSEnforce(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	p := n.policies()
	lo := net.ParseIP(localhost)
	good := n.receiver("mx.good.test", devnet.ReceiverOptions{})
	c := n.client(good.Port(), delivery.Config{STS: p.sts})

	// Good certificate: delivered, and the result says enforce applied.
	n.dns.AddZoneMX("good.test", "mx.good.test", lo)
	p.publish("good.test", "1", "enforce", "mx.good.test")
	res, err := send(t, c, "x@good.test")
	if err != nil || !res.TLS.Verified || res.TLS.MTASTS != "enforce" || res.TLSPolicyFailure != "" {
		t.Fatalf("good: %+v, %v", res, err)
	}

	// A certificate from a trusted CA, but for another name.
	wrong := n.receiver("mx.other.test", devnet.ReceiverOptions{})
	n.dns.AddZoneMX("wrong.test", "mx.wrong.test", lo)
	p.publish("wrong.test", "1", "enforce", "mx.wrong.test")
	_, err = send(t, n.client(wrong.Port(), delivery.Config{STS: p.sts}), "x@wrong.test")
	if de := wantDeferred(t, err, wrong, delivery.StageTLS); !strings.Contains(de.Message, "MTA-STS") || de.MX != "mx.wrong.test" {
		t.Errorf("wrong name: %+v", de)
	}

	// No STARTTLS, and a broken handshake: never plaintext.
	plain := n.receiver("", devnet.ReceiverOptions{})
	n.dns.AddZoneMX("plain.test", "mx.plain.test", lo)
	p.publish("plain.test", "1", "enforce", "mx.plain.test")
	_, err = send(t, n.client(plain.Port(), delivery.Config{STS: p.sts}), "x@plain.test")
	wantDeferred(t, err, plain, delivery.StageTLS)

	cert, _ := n.ca.Issue("mx.broken.test")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert.PrivateKey = other // the handshake signature fails
	broken := n.receiver("", devnet.ReceiverOptions{TLSCert: &cert})
	n.dns.AddZoneMX("broken.test", "mx.broken.test", lo)
	p.publish("broken.test", "1", "enforce", "mx.broken.test")
	_, err = send(t, n.client(broken.Port(), delivery.Config{STS: p.sts}), "x@broken.test")
	wantDeferred(t, err, broken, delivery.StageTLS)
	if broken.Connections() != 1 {
		t.Errorf("broken TLS: %d connections, want 1 (no plaintext retry)", broken.Connections())
	}
}

// TestDeliverMTASTSMXNotInPolicy checks that in enforce mode only MX
// hosts the policy lists are tried (RFC 8461 4.1).
func TestDeliverMTASTSMXNotInPolicy(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	p := n.policies()
	listed := n.receiver("mx2.f.test", devnet.ReceiverOptions{})
	_, port, _ := net.SplitHostPort(listed.Addr())
	unlisted, err := devnet.StartReceiver(devnet.ReceiverOptions{Addr: net.JoinHostPort("127.0.0.2", port)})
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	t.Cleanup(func() { unlisted.Close() })
	n.dns.AddMX("f.test", "mx1.f.test", 10) // preferred, but not in the policy
	n.dns.AddA("mx1.f.test", net.ParseIP("127.0.0.2"))
	n.dns.AddMX("f.test", "mx2.f.test", 20)
	n.dns.AddA("mx2.f.test", net.ParseIP(localhost))
	p.publish("f.test", "1", "enforce", "mx2.f.test")
	c := n.client(listed.Port(), delivery.Config{STS: p.sts})

	res, err := send(t, c, "x@f.test")
	if err != nil || res.MX != "mx2.f.test" || res.TLS.MTASTS != "enforce" {
		t.Fatalf("result %+v, %v", res, err)
	}
	if unlisted.Connections() != 0 {
		t.Errorf("the unlisted MX was tried %d times", unlisted.Connections())
	}

	// With no listed host at all, nothing is tried and the message waits.
	p.publish("f.test", "2", "enforce", "mx.elsewhere.test")
	_, err = send(t, c, "y@f.test")
	de := wantError(t, err, true, delivery.StageConnect, 0)
	if de.Enhanced != "4.7.5" || !strings.Contains(de.Message, "not listed") {
		t.Errorf("no listed MX: %+v", de)
	}
	if unlisted.Connections() != 0 || listed.Count() != 1 {
		t.Errorf("unlisted connections %d, listed count %d", unlisted.Connections(), listed.Count())
	}
}

func TestDeliverMTASTSTesting(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	p := n.policies()
	self, _ := devnet.SelfSigned("mx.t.test")
	r := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	n.dns.AddZoneMX("t.test", "mx.t.test", net.ParseIP(localhost))
	p.publish("t.test", "1", "testing", "mx.t.test")
	c := n.client(r.Port(), delivery.Config{STS: p.sts})
	for i := range 2 { // the second goes over the pooled connection
		res, err := send(t, c, "x@t.test")
		if err != nil {
			t.Fatal(err)
		}
		if res.TLS == nil || res.TLS.Verified || res.TLS.MTASTS != "testing" || !strings.Contains(res.TLSPolicyFailure, "certificate did not verify") || res.Reused != (i == 1) {
			t.Errorf("delivery %d: %+v, TLS %+v", i, res, res.TLS)
		}
	}
	// An unlisted MX is used too, and the failure noted.
	p.publish("t.test", "2", "testing", "mx.other.test")
	res, err := send(t, c, "y@t.test")
	if err != nil || !strings.Contains(res.TLSPolicyFailure, "not listed") || r.Count() != 3 {
		t.Errorf("unlisted in testing mode: %+v, %v", res, err)
	}
}

// TestDeliverMTASTSCache checks that the policy is fetched once, again
// when its id changes, and that a failed fetch leaves the cached policy in
// force.
func TestDeliverMTASTSCache(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	p := n.policies()
	r := n.receiver("mx.k.test", devnet.ReceiverOptions{})
	n.dns.AddZoneMX("k.test", "mx.k.test", net.ParseIP(localhost))
	p.publish("k.test", "1", "enforce", "mx.k.test")
	c := n.client(r.Port(), delivery.Config{STS: p.sts})

	for i := range 2 {
		if res, err := send(t, c, "u"+strconv.Itoa(i)+"@k.test"); err != nil || res.TLS.MTASTS != "enforce" {
			t.Fatalf("delivery %d: %+v, %v", i, res, err)
		}
	}
	if f := p.web.Fetches("k.test"); f != 1 {
		t.Errorf("%d fetches for two deliveries, want 1", f)
	}
	p.publish("k.test", "2", "testing", "mx.k.test")
	if res, err := send(t, c, "v@k.test"); err != nil || res.TLS.MTASTS != "testing" || p.web.Fetches("k.test") != 2 {
		t.Fatalf("after id change: %+v, %v, %d fetches", res, err, p.web.Fetches("k.test"))
	}
	// The policy server fails after another id change: the cached
	// (testing) policy still applies.
	n.dns.Remove("_mta-sts.k.test")
	n.dns.AddTXT("_mta-sts.k.test", "v=STSv1; id=3")
	p.web.SetHandler("k.test", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	if res, err := send(t, c, "w@k.test"); err != nil || res.TLS.MTASTS != "testing" || p.web.Fetches("k.test") != 3 {
		t.Fatalf("after failed fetch: %+v, %v, %d fetches", res, err, p.web.Fetches("k.test"))
	}
}

// TestDeliverPooledPlaintext checks that a pooled plaintext connection is
// not reused once the domain's policy demands TLS.
func TestDeliverPooledPlaintext(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	p := n.policies()
	r := n.receiver("", devnet.ReceiverOptions{})
	n.dns.AddZoneMX("pp.test", "mx.pp.test", net.ParseIP(localhost))
	c := n.client(r.Port(), delivery.Config{STS: p.sts})
	if res, err := send(t, c, "a@pp.test"); err != nil || res.TLS != nil {
		t.Fatalf("no policy: %+v, %v", res, err)
	}
	p.publish("pp.test", "1", "enforce", "mx.pp.test")
	_, err := send(t, c, "b@pp.test")
	wantError(t, err, true, delivery.StageTLS, 0)
	if r.Count() != 1 || r.Connections() != 2 {
		t.Errorf("count %d, connections %d: the plaintext connection was reused", r.Count(), r.Connections())
	}
}
