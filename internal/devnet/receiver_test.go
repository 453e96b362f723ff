package devnet

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func TestCA(t *testing.T) {
	t.Parallel()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("mx.example.test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mx.example.test", "127.0.0.1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: ca.Pool()}); err == nil {
		t.Error("leaf verified for a name it does not carry")
	}
	self, err := SelfSigned("mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := self.Leaf.Verify(x509.VerifyOptions{DNSName: "mx.example.test", Roots: ca.Pool()}); err == nil {
		t.Error("self-signed certificate verified against the CA")
	}
	if block, _ := pem.Decode(ca.CertPEM()); block == nil || block.Type != "CERTIFICATE" {
		t.Error("CertPEM is not a PEM certificate")
	}
}

func startTestReceiver(t *testing.T, opts ReceiverOptions) *Receiver {
	t.Helper()
	r, err := StartReceiver(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// rawSession speaks SMTP by hand, for input the go-smtp client would
// refuse or repair.
func rawSession(t *testing.T, addr string, lines ...string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	tp := textproto.NewReader(bufio.NewReader(c))
	var replies []string
	read := func() {
		code, msg, err := tp.ReadResponse(0)
		if err != nil && code == 0 {
			t.Fatalf("read reply: %v", err)
		}
		replies = append(replies, fmt.Sprintf("%d %s", code, msg))
	}
	read()
	for _, l := range lines {
		if _, err := c.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
		read()
	}
	return replies
}

func TestReceiverRejectsBareLineEnds(t *testing.T) {
	t.Parallel()
	r := startTestReceiver(t, ReceiverOptions{})
	for _, body := range []string{"a\nb\r\n", "a\rb\r\n", "x\n.\r\nMAIL FROM:<e@evil.test>\r\n"} {
		replies := rawSession(t, r.Addr(), "EHLO c.test\r\n", "MAIL FROM:<a@x.test>\r\n",
			"RCPT TO:<b@y.test>\r\n", "DATA\r\n", body+".\r\n", "QUIT\r\n")
		if !strings.HasPrefix(replies[5], "554 5.6.0") {
			t.Errorf("body %q: DATA reply %q", body, replies[5])
		}
	}
	if r.Count() != 0 || r.Attempts("b@Y.TEST") != 3 {
		t.Errorf("count %d, attempts %d", r.Count(), r.Attempts("b@y.test"))
	}

	lax := startTestReceiver(t, ReceiverOptions{AllowBareLF: true})
	rawSession(t, lax.Addr(), "HELO c.test\r\n", "MAIL FROM:<>\r\n", "RCPT TO:<b@y.test>\r\n", "DATA\r\n", "a\nb\r\n.\r\n")
	if msgs := lax.Messages(); len(msgs) != 1 || string(msgs[0].Data) != "a\nb\r\n" || msgs[0].Helo != "c.test" {
		t.Errorf("lax receiver stored %+v", msgs)
	}
}

func TestReceiverFlow(t *testing.T) {
	t.Parallel()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	r := startTestReceiver(t, ReceiverOptions{
		Hostname:  "mx.example.test",
		TLSCert:   &cert,
		Domains:   []string{"example.test"},
		MaxStored: 2,
		Respond: func(rcpt string, attempt int) *smtp.SMTPError {
			if strings.HasPrefix(rcpt, "flaky@") && attempt <= 2 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			}
			return nil
		},
	})
	sub, stop := r.Subscribe()
	defer stop()

	c, err := smtp.DialStartTLS(r.Addr(), &tls.Config{RootCAs: ca.Pool(), ServerName: "mx.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := "Subject: hi\r\n\r\n.dot line\r\nbody\r\n"
	for _, rcpt := range []string{"a@example.test", "b@sub.example.test", "flaky@example.test", "flaky@example.test", "flaky@example.test"} {
		attempt := r.Attempts(rcpt) + 1
		err := c.SendMail("s@sender.test", []string{rcpt}, strings.NewReader(msg))
		var serr *smtp.SMTPError
		switch {
		case rcpt == "flaky@example.test" && attempt <= 2:
			if !errors.As(err, &serr) || serr.Code != 451 {
				t.Errorf("%s attempt %d: %v, want 451", rcpt, attempt, err)
			}
		case err != nil:
			t.Fatalf("%s attempt %d: %v", rcpt, attempt, err)
		}
	}
	err = c.SendMail("s@sender.test", []string{"x@other.test"}, strings.NewReader(msg))
	if serr, ok := err.(*smtp.SMTPError); !ok || serr.Code != 550 || serr.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Errorf("foreign domain: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := r.WaitCount(ctx, 3); err != nil {
		t.Fatal(err)
	}
	msgs := r.Messages()
	if len(msgs) != 2 || msgs[0].ID != 2 || msgs[1].ID != 3 || r.Count() != 3 {
		t.Fatalf("stored %d messages (count %d)", len(msgs), r.Count())
	}
	m := msgs[1]
	if string(m.Data) != msg || m.TLS == nil || m.TLS.Version != tls.VersionTLS13 || m.To[0] != "flaky@example.test" {
		t.Errorf("stored %+v", m)
	}
	if first := <-sub; first.ID != 1 || first.To[0] != "a@example.test" {
		t.Errorf("subscriber got %+v", first)
	}
	if r.Connections() != 1 || r.Port() == 0 {
		t.Errorf("connections %d, port %d", r.Connections(), r.Port())
	}
	r.Reset()
	if r.Count() != 0 || len(r.Messages()) != 0 || r.Attempts("flaky@example.test") != 0 {
		t.Error("Reset left state behind")
	}
}

func TestReceiverAuth(t *testing.T) {
	t.Parallel()
	ca, _ := NewCA()
	cert, _ := ca.Issue("relay.test")
	r := startTestReceiver(t, ReceiverOptions{TLSCert: &cert, Auth: map[string]string{"user": "secret"}})

	plain, err := smtp.Dial(r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("AUTH offered before TLS")
	}
	if err := plain.Mail("a@b.test", nil); err == nil || err.(*smtp.SMTPError).Code != 530 {
		t.Errorf("MAIL without AUTH: %v", err)
	}

	for _, pw := range []string{"wrong", "secret"} {
		c, err := smtp.DialStartTLS(r.Addr(), &tls.Config{RootCAs: ca.Pool(), ServerName: "relay.test"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Auth(sasl.NewPlainClient("", "user", pw))
		if (pw == "secret") != (err == nil) {
			t.Errorf("password %q: %v", pw, err)
		}
		if err == nil {
			if err := c.SendMail("a@b.test", []string{"c@d.test"}, strings.NewReader("x\r\n")); err != nil {
				t.Error(err)
			}
		}
		c.Close()
	}
}

func TestMailboxHandler(t *testing.T) {
	t.Parallel()
	r := startTestReceiver(t, ReceiverOptions{})
	msg := "Subject: =?UTF-8?B?" + "PHNjcmlwdD5Iw6lsbG88L3NjcmlwdD4=" + "?=\r\n\r\n<b>body</b>\r\n"
	replies := rawSession(t, r.Addr(), "EHLO c\r\n", "MAIL FROM:<a@b.test>\r\n", "RCPT TO:<b@c.test>\r\n", "DATA\r\n", msg+".\r\n")
	if !strings.HasPrefix(replies[len(replies)-1], "250") {
		t.Fatalf("replies %q", replies)
	}
	h := r.MailboxHandler()
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}
	page := get("/")
	body := page.Body.String()
	if page.Code != 200 || !strings.Contains(body, "&lt;script&gt;Héllo&lt;/script&gt;") || strings.Contains(body, "<script>") {
		t.Errorf("page %d:\n%s", page.Code, body)
	}
	raw := get("/?id=1")
	trace := r.Messages()[0].Trace
	if !strings.HasPrefix(trace, "Received: from c ([127.0.0.1])\r\n\tby localhost (Sealpost devnet) with ESMTP id 1\r\n\tfor <b@c.test>;") {
		t.Errorf("trace %q", trace)
	}
	if raw.Header().Get("Content-Type") != "text/plain; charset=utf-8" || raw.Body.String() != trace+msg {
		t.Errorf("raw view: %q %q", raw.Header().Get("Content-Type"), raw.Body.String())
	}
	if get("/?id=9").Code != 404 || get("/?id=x").Code != 400 {
		t.Error("bad ids not rejected")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}
