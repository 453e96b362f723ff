package devnet

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/mailcheck/received"
)

// TestTraceLineIsReadAsEncrypted: a message delivered over STARTTLS carries a
// Received field naming the version and cipher actually negotiated, which the header
// analyser classes as encrypted; one delivered in the clear says ESMTP and records no
// TLS; an authenticated one says ESMTPSA. Data itself stays byte-exact.
func TestTraceLineIsReadAsEncrypted(t *testing.T) {
	t.Parallel()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ca.Issue("mx.example.test")
	r := startTestReceiver(t, ReceiverOptions{Hostname: "mx.example.test", TLSCert: &cert})
	auth := startTestReceiver(t, ReceiverOptions{Hostname: "relay.example.test", TLSCert: &cert, Auth: map[string]string{"u": "p"}})
	const msg = "Subject: hi\r\n\r\nbody\r\n"

	c, err := smtp.DialStartTLS(r.Addr(), &tls.Config{RootCAs: ca.Pool(), ServerName: "mx.example.test", MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("sender.example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("a@sender.test", []string{"bob@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	p, err := smtp.Dial(r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendMail("a@sender.test", []string{"x@example.test", "y@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	p.Close()
	a, err := smtp.DialStartTLS(auth.Addr(), &tls.Config{RootCAs: ca.Pool(), ServerName: "mx.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
		t.Fatal(err)
	}
	if err := a.SendMail("a@sender.test", []string{"c@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	a.Close()

	msgs := append(r.Messages(), auth.Messages()...)
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	hop := func(m Received) received.Hop {
		t.Helper()
		if string(m.Data) != msg || !bytes.HasSuffix(m.Delivered(), []byte(msg)) || !strings.HasPrefix(string(m.Delivered()), m.Trace) {
			t.Errorf("message %d: data %q, delivered %q", m.ID, m.Data, m.Delivered())
		}
		rep, err := received.Analyze(bytes.NewReader(m.Delivered()))
		if err != nil || len(rep.Hops) != 1 {
			t.Fatalf("message %d: %v, %+v", m.ID, err, rep)
		}
		return rep.Hops[0]
	}
	tlsHop := hop(msgs[0])
	if tlsHop.With != "ESMTPS" || tlsHop.Class != received.Encrypted || tlsHop.TLS.Version != "TLSv1.2" ||
		tlsHop.TLS.Cipher != tls.CipherSuiteName(msgs[0].TLS.CipherSuite) || tlsHop.By != "mx.example.test" ||
		tlsHop.From != "sender.example.test" || tlsHop.FromAddr != "127.0.0.1" || tlsHop.For != "bob@example.test" || tlsHop.Time.IsZero() {
		t.Errorf("STARTTLS hop %+v %+v from %q", tlsHop, tlsHop.TLS, msgs[0].Trace)
	}
	plain := hop(msgs[1])
	if plain.With != "ESMTP" || plain.TLS != nil || plain.For != "" {
		t.Errorf("plain hop %+v from %q", plain, msgs[1].Trace)
	}
	if authed := hop(msgs[2]); authed.With != "ESMTPSA" || authed.TLS == nil || authed.TLS.Version != "TLSv1.3" {
		t.Errorf("authenticated hop %+v from %q", authed, msgs[2].Trace)
	}
}

func TestHeloNameIsCleaned(t *testing.T) {
	t.Parallel()
	m := &Received{ID: 1, Helo: "evil (x) ;\r\nX-Injected: 1", To: []string{"a@b.test>\r\nX: y"}, Client: "2001:db8::1"}
	got := traceLine(m, "mx.test")
	if strings.Contains(got, "\r\nX") || strings.Count(got, "\r\n") != 4 ||
		!strings.HasPrefix(got, "Received: from evilxX-Injected:1 ([IPv6:2001:db8::1])\r\n") || !strings.Contains(got, "for <a@b.testX: y>") {
		t.Errorf("trace %q", got)
	}
}
