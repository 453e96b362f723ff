package delivery_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
)

func TestDeliverSmartHost(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddA("relay.test", net.ParseIP(localhost))
	auth := map[string]string{"sealpost": "s3cret"}
	starttls := n.receiver("relay.test", devnet.ReceiverOptions{Auth: auth})
	cert, _ := n.ca.Issue("relay.test")
	implicit := n.receiver("", devnet.ReceiverOptions{Auth: auth, TLSCert: &cert, ImplicitTLS: true})
	plain := n.receiver("", devnet.ReceiverOptions{Auth: auth})
	smart := func(r *devnet.Receiver, password string, implicitTLS bool) delivery.Config {
		return delivery.Config{
			SmartHost:     "relay.test:" + strconv.Itoa(r.Port()),
			SmartHostUser: "sealpost", SmartHostPassword: password, SmartHostImplicitTLS: implicitTLS,
		}
	}
	// The recipient domain does not exist: with a smart host, DNS for it
	// is the relay's business.
	env := delivery.Envelope{From: "s@x.test", To: "bob@elsewhere.test"}

	for _, tc := range []struct {
		name string
		r    *devnet.Receiver
		cfg  delivery.Config
	}{
		{"starttls", starttls, smart(starttls, "s3cret", false)},
		{"implicit", implicit, smart(implicit, "s3cret", true)},
	} {
		res, err := n.client(0, tc.cfg).Deliver(ctxFor(t), env, strings.NewReader("m\r\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.MX != "relay.test" || !res.TLS.Verified || tc.r.Count() != 1 || tc.r.Messages()[0].To[0] != env.To {
			t.Errorf("%s: result %+v, TLS %+v, count %d", tc.name, res, res.TLS, tc.r.Count())
		}
	}

	_, err := n.client(0, smart(starttls, "wrong", false)).Deliver(ctxFor(t), env, strings.NewReader("m\r\n"))
	if de := wantError(t, err, true, delivery.StageAuth, 535); de.Enhanced != "5.7.8" {
		t.Errorf("bad password: %+v", de)
	}
	// Credentials never go out in plaintext.
	_, err = n.client(0, smart(plain, "s3cret", false)).Deliver(ctxFor(t), env, strings.NewReader("m\r\n"))
	wantError(t, err, true, delivery.StageAuth, 0)
	if plain.Count() != 0 || starttls.Count() != 1 {
		t.Errorf("counts: plain %d, starttls %d", plain.Count(), starttls.Count())
	}
}

func TestDeliverRequireTLS(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	plain := n.receiver("", devnet.ReceiverOptions{})
	self, _ := devnet.SelfSigned("mx.self.test")
	selfSigned := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	good := n.receiver("mx.good.test", devnet.ReceiverOptions{})
	n.dns.AddZoneMX("plain.test", "mx.plain.test", net.ParseIP(localhost))
	n.dns.AddZoneMX("self.test", "mx.self.test", net.ParseIP(localhost))
	n.dns.AddZoneMX("good.test", "mx.good.test", net.ParseIP(localhost))

	send := func(r *devnet.Receiver, to string) (*delivery.Result, error) {
		return n.client(r.Port(), delivery.Config{}).Deliver(ctxFor(t), delivery.Envelope{To: to, RequireTLS: true}, strings.NewReader("m\r\n"))
	}
	_, err := send(plain, "x@plain.test")
	wantError(t, err, true, delivery.StageTLS, 0)
	_, err = send(selfSigned, "x@self.test")
	if de := wantError(t, err, true, delivery.StageTLS, 0); !strings.Contains(de.Message, "unknown authority") {
		t.Errorf("self-signed: %+v", de)
	}
	if res, err := send(good, "x@good.test"); err != nil || !res.TLS.Verified {
		t.Fatalf("verified: %+v, %v", res, err)
	}
	if plain.Count()+selfSigned.Count() != 0 {
		t.Error("message sent without the required TLS")
	}
}

// TestDeliverBrokenTLS checks the opportunistic fallback: when the TLS
// handshake itself fails the message goes once more in plaintext, unless
// TLS is required.
func TestDeliverBrokenTLS(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	cert, _ := n.ca.Issue("mx.broken.test")
	// A private key that does not match the certificate makes the server's
	// handshake signature invalid, so the client aborts the handshake.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert.PrivateKey = other
	r := n.receiver("", devnet.ReceiverOptions{TLSCert: &cert})
	n.dns.AddZoneMX("broken.test", "mx.broken.test", net.ParseIP(localhost))
	c := n.client(r.Port(), delivery.Config{})

	_, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@broken.test", RequireTLS: true}, strings.NewReader("m\r\n"))
	wantError(t, err, true, delivery.StageTLS, 0)
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@broken.test"}, strings.NewReader("m\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.TLS != nil || !strings.Contains(res.TLSFallback, "handshake") || r.Count() != 1 || r.Messages()[0].TLS != nil {
		t.Errorf("fallback result %+v", res)
	}
	// The plaintext connection is pooled and remembers why.
	res, err = c.Deliver(ctxFor(t), delivery.Envelope{To: "y@broken.test"}, strings.NewReader("m\r\n"))
	if err != nil || !res.Reused || res.TLSFallback == "" {
		t.Errorf("reused fallback: %+v, %v", res, err)
	}
}

func TestDeliverCancelAndReadError(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("slow.test", "mx.slow.test", net.ParseIP(localhost))
	r := n.receiver("", devnet.ReceiverOptions{
		Respond: func(rcpt string, _ int) *smtp.SMTPError {
			if strings.HasPrefix(rcpt, "slow@") {
				time.Sleep(time.Second)
			}
			return nil
		},
	})
	c := n.client(r.Port(), delivery.Config{})

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Deliver(ctx, delivery.Envelope{To: "slow@slow.test"}, strings.NewReader("m\r\n"))
	if de := wantError(t, err, true, delivery.StageData, 0); !errors.Is(de, context.DeadlineExceeded) {
		t.Errorf("cancelled: %+v", de)
	}
	if elapsed := time.Since(start); elapsed > 900*time.Millisecond {
		t.Errorf("Deliver returned %v after the deadline", elapsed)
	}

	// A message that cannot be read must not be sent truncated.
	broken := iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader("Subject: x\r\n\r\nbody\r\n")))
	_, err = c.Deliver(ctxFor(t), delivery.Envelope{To: "x@slow.test"}, broken)
	if de := wantError(t, err, true, delivery.StageData, 0); !errors.Is(de, iotest.ErrTimeout) {
		t.Errorf("read error: %+v", de)
	}
	for _, m := range r.Messages() {
		if m.To[0] == "x@slow.test" {
			t.Errorf("truncated message accepted: %q", m.Data)
		}
	}
}
