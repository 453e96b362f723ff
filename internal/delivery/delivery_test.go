package delivery_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
)

// testNet is a private internet per test: DNS, a CA and receivers.
type testNet struct {
	t   *testing.T
	ca  *devnet.CA
	dns *devnet.DNS
}

func newNet(t *testing.T) *testNet {
	t.Helper()
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	d, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &testNet{t: t, ca: ca, dns: d}
}

// receiver starts a receiver; certFor names the MX it holds a CA-issued
// certificate for ("" for none).
func (n *testNet) receiver(certFor string, opts devnet.ReceiverOptions) *devnet.Receiver {
	n.t.Helper()
	if certFor != "" {
		cert, err := n.ca.Issue(certFor)
		if err != nil {
			n.t.Fatal(err)
		}
		opts.TLSCert = &cert
	}
	r, err := devnet.StartReceiver(opts)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { r.Close() })
	return r
}

// client returns a delivery client pointed at this net, sending to port.
func (n *testNet) client(port int, cfg delivery.Config) *delivery.Client {
	cfg.Resolver = n.dns.Resolver()
	cfg.RootCAs = n.ca.Pool()
	if cfg.Port == 0 {
		cfg.Port = port
	}
	cfg.HeloName = "out.sealpost.test"
	c := delivery.New(cfg)
	n.t.Cleanup(func() { c.Close() })
	return c
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantError checks that err is a *delivery.Error with the given traits.
func wantError(t *testing.T, err error, temporary bool, stage string, code int) *delivery.Error {
	t.Helper()
	var de *delivery.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T), want *delivery.Error", err, err)
	}
	if de.Temporary != temporary || de.Stage != stage || de.Code != code {
		t.Fatalf("error %+v; want temporary=%v stage=%s code=%d", de, temporary, stage, code)
	}
	if strings.ContainsAny(de.Message, "\r\n") {
		t.Errorf("message has line breaks: %q", de.Message)
	}
	return de
}

const localhost = "127.0.0.1"

func TestDeliverVerifiedTLS(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("a.test", "mx1.a.test", net.ParseIP(localhost))
	r := n.receiver("mx1.a.test", devnet.ReceiverOptions{Domains: []string{"a.test"}})
	c := n.client(r.Port(), delivery.Config{})

	// Mixed line endings, a line starting with a dot, no final newline.
	msg := "Subject: test\nFrom: s@sender.test\r\n\r\n.leading dot\nbare cr\rcrlf\r\n..two\nend"
	want := "Subject: test\r\nFrom: s@sender.test\r\n\r\n.leading dot\r\nbare cr\r\ncrlf\r\n..two\r\nend\r\n"
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{From: "s@sender.test", To: "Bob@A.test"}, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if res.MX != "mx1.a.test" || res.Addr != r.Addr() || !strings.HasPrefix(res.Reply, "250 2.0.0") || res.Reused {
		t.Errorf("result %+v", res)
	}
	if res.TLS == nil || !res.TLS.Verified || res.TLS.Version != "TLSv1.3" || res.TLS.ServerName != "mx1.a.test" || res.TLS.Cipher == "" {
		t.Fatalf("TLS %+v", res.TLS)
	}
	got := r.Messages()
	if len(got) != 1 || string(got[0].Data) != want || got[0].From != "s@sender.test" || got[0].To[0] != "Bob@A.test" {
		t.Fatalf("received %+v", got)
	}
	if got[0].TLS == nil || got[0].Helo != "out.sealpost.test" {
		t.Errorf("receiver saw TLS %v, helo %q", got[0].TLS, got[0].Helo)
	}
}

func TestDeliverUnverifiedAndPlain(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	self, err := devnet.SelfSigned("mx.self.test")
	if err != nil {
		t.Fatal(err)
	}
	selfSigned := n.receiver("", devnet.ReceiverOptions{TLSCert: &self})
	plain := n.receiver("", devnet.ReceiverOptions{})
	n.dns.AddZoneMX("self.test", "mx.self.test", net.ParseIP(localhost))
	n.dns.AddZoneMX("plain.test", "mx.plain.test", net.ParseIP(localhost))

	res, err := n.client(selfSigned.Port(), delivery.Config{}).Deliver(ctxFor(t), delivery.Envelope{To: "x@self.test"}, strings.NewReader("a\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.TLS == nil || res.TLS.Verified || !strings.Contains(res.TLS.VerifyError, "unknown authority") {
		t.Errorf("self-signed TLS %+v", res.TLS)
	}
	if selfSigned.Count() != 1 || selfSigned.Messages()[0].From != "" {
		t.Error("self-signed receiver did not get the null-sender message")
	}

	res, err = n.client(plain.Port(), delivery.Config{}).Deliver(ctxFor(t), delivery.Envelope{From: "s@x.test", To: "x@plain.test"}, strings.NewReader("a\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.TLS != nil || res.TLSFallback != "" || plain.Messages()[0].TLS != nil {
		t.Errorf("plain delivery reported TLS %+v / %q", res.TLS, res.TLSFallback)
	}
}

func TestDeliverReplies(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("r.test", "mx.r.test", net.ParseIP(localhost))
	r := n.receiver("mx.r.test", devnet.ReceiverOptions{
		Domains: []string{"r.test"},
		Respond: func(rcpt string, attempt int) *smtp.SMTPError {
			switch {
			case strings.HasPrefix(rcpt, "busy@"):
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "busy\r\nnow"}
			case strings.HasPrefix(rcpt, "gone@"):
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			case strings.HasPrefix(rcpt, "flaky@") && attempt < 3:
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 5}, Message: "later"}
			}
			return nil
		},
	})
	c := n.client(r.Port(), delivery.Config{})
	ctx := ctxFor(t)
	send := func(to string) (*delivery.Result, error) {
		return c.Deliver(ctx, delivery.Envelope{From: "s@x.test", To: to}, strings.NewReader("m\r\n"))
	}

	_, err := send("busy@r.test")
	if de := wantError(t, err, true, delivery.StageData, 451); de.Enhanced != "4.3.0" || de.Message != "busy now" || de.MX != "mx.r.test" {
		t.Errorf("451: %+v", de)
	}
	_, err = send("gone@r.test")
	if de := wantError(t, err, false, delivery.StageData, 550); de.Enhanced != "5.1.1" || de.Message != "no such user" {
		t.Errorf("550: %+v", de)
	}
	_, err = send("x@sub.other.test")
	wantError(t, err, false, delivery.StageDNS, 0)
	for attempt := 1; attempt <= 2; attempt++ {
		_, err = send("flaky@r.test")
		wantError(t, err, true, delivery.StageData, 421)
	}
	if _, err := send("flaky@r.test"); err != nil {
		t.Errorf("third attempt: %v", err)
	}
	_, err = send("bad address")
	wantError(t, err, false, delivery.StageRcpt, 0)
	_, err = c.Deliver(ctx, delivery.Envelope{From: "a@b\r\nRCPT TO:<c@d>", To: "x@r.test"}, strings.NewReader("m\r\n"))
	wantError(t, err, false, delivery.StageMail, 0)
	if r.Count() != 1 {
		t.Errorf("receiver accepted %d messages, want 1", r.Count())
	}
}

// TestDeliverRcptRefused checks a refusal inside the transaction is final
// and the connection stays usable after RSET.
func TestDeliverRcptRefused(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("only.test", "mx.only.test", net.ParseIP(localhost))
	n.dns.AddMX("other.test", "mx.only.test", 10)
	r := n.receiver("", devnet.ReceiverOptions{Domains: []string{"only.test"}})
	c := n.client(r.Port(), delivery.Config{})
	_, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@other.test"}, strings.NewReader("m\r\n"))
	if de := wantError(t, err, false, delivery.StageRcpt, 550); de.Enhanced != "5.1.1" {
		t.Errorf("enhanced %q", de.Enhanced)
	}
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@only.test"}, strings.NewReader("m\r\n"))
	if err != nil || !res.Reused || r.Connections() != 1 {
		t.Fatalf("after RSET: %+v, %v, %d connections", res, err, r.Connections())
	}
}

// TestBeforeDataGuardsTheMessage checks the hook runs once the recipient is accepted
// and before anything of the message leaves: a refusing hook sends nothing and
// leaves the connection usable; an accepting one is followed by the message.
func TestBeforeDataGuardsTheMessage(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("mark.test", "mx.mark.test", net.ParseIP(localhost))
	r := n.receiver("", devnet.ReceiverOptions{Domains: []string{"mark.test"}})
	c := n.client(r.Port(), delivery.Config{})
	calls := 0
	_, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@mark.test", BeforeData: func() error { calls++; return errors.New("mark refused") }}, strings.NewReader("m\r\n"))
	if de := wantError(t, err, true, delivery.StageData, 0); !strings.Contains(de.Message, "mark refused") {
		t.Errorf("message %q", de.Message)
	}
	if calls != 1 || r.Count() != 0 || r.Attempts("x@mark.test") != 0 {
		t.Fatalf("refused hook: %d calls, %d accepted, %d DATA phases", calls, r.Count(), r.Attempts("x@mark.test"))
	}
	// Refused at RCPT: the hook never runs.
	_, err = c.Deliver(ctxFor(t), delivery.Envelope{To: "x@other.test", BeforeData: func() error { calls++; return nil }}, strings.NewReader("m\r\n"))
	if err == nil || calls != 1 {
		t.Fatalf("hook ran for a refused recipient: %v, %d calls", err, calls)
	}
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@mark.test", BeforeData: func() error { calls++; return nil }}, strings.NewReader("m\r\n"))
	if err != nil || calls != 2 || r.Count() != 1 || !res.Reused {
		t.Fatalf("accepting hook: %+v, %v, %d calls, %d accepted", res, err, calls, r.Count())
	}
}

func TestTLSVersionNames(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("v12.test", "mx.v12.test", net.ParseIP(localhost))
	cert, _ := n.ca.Issue("mx.v12.test")
	r := n.receiver("", devnet.ReceiverOptions{TLSCert: &cert})
	c := n.client(r.Port(), delivery.Config{})
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "x@v12.test"}, strings.NewReader("m\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.TLS.Cipher != tls.CipherSuiteName(r.Messages()[0].TLS.CipherSuite) {
		t.Errorf("cipher %q vs receiver %x", res.TLS.Cipher, r.Messages()[0].TLS.CipherSuite)
	}
}
