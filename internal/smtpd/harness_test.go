package smtpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/smtpd"
	"github.com/sealpost/sealpost/internal/tenant"
)

const patientDomain = "patient.example"

// env is a running Sealpost with its SMTP listeners on loopback, the internet stood in
// for by devnet (DNS, CA, a receiving server with STARTTLS), and one tenant with a
// verified domain, a DKIM key in DNS and an SMTP credential.
type env struct {
	t          testing.TB
	srv        *server.Server
	rcv        *devnet.Receiver
	ca         *devnet.CA
	tenant     string
	user, pass string
	sub, subs  string // 587-style and 465-style listener addresses
	relay      string // the relay listener
	inbound    string // the inbound listener (bounces and complaints)
	dns        *devnet.DNS
	dkimTXT    string
	logs       *lockedBuf
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newEnv(t testing.TB, dbURL string, configure func(*config.Config)) *env {
	t.Helper()
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	rcert, err := ca.Issue("mx." + patientDomain)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "mx." + patientDomain, TLSCert: &rcert, MaxStored: 100000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Close() })
	dns, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() })
	dns.AddZoneMX(patientDomain, "mx."+patientDomain, net.IPv4(127, 0, 0, 1))
	scert, err := ca.Issue("smtp.sealpost.test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dbURL
	cfg.Hostname = "sealpost.test"
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Delivery.Port = rcv.Port()
	cfg.Delivery.DNSServer = dns.Addr()
	cfg.Delivery.Retry = []string{"300ms", "600ms"}
	cfg.Delivery.DrainTimeout = "5s"
	cfg.SMTP.Submission = "127.0.0.1:0"
	cfg.SMTP.Submissions = "127.0.0.1:0"
	cfg.SMTP.Relay = "127.0.0.1:0"
	cfg.SMTP.Inbound = "127.0.0.1:0"
	cfg.SMTP.BounceDomain = "bounces.sealpost.test"
	cfg.SMTP.AuthMaxFailures = 5
	sts := devnet.StartPolicyServer(ca)
	t.Cleanup(sts.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Secure.PortalURL = "http://" + ln.Addr().String()
	if configure != nil {
		configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	logs := &lockedBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, &cfg, server.Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Keyring: ring, RootCAs: ca.Pool(), Listener: ln, HTTPClient: sts.Client(),
		SMTPTLS: &tls.Config{Certificates: []tls.Certificate{scert}}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
		if t.Failed() && os.Getenv("SEALPOST_TEST_LOGS") != "" {
			t.Log(logs.String())
		}
	})
	e := &env{t: t, srv: srv, rcv: rcv, ca: ca, logs: logs, sub: srv.SMTPAddr(smtpd.Submission), subs: srv.SMTPAddr(smtpd.SubmitTLS),
		relay: srv.SMTPAddr(smtpd.Relay), inbound: srv.SMTPAddr(smtpd.Inbound), dns: dns}
	tn, err := srv.Tenants.Create(ctx, "clinic")
	if err != nil {
		t.Fatal(err)
	}
	e.tenant = tn.ID
	if _, err := srv.Tenants.AddDomain(ctx, tn.ID, "clinic.example", true); err != nil {
		t.Fatal(err)
	}
	k, err := srv.Tenants.GenerateDKIM(ctx, tn.ID, "clinic.example", "s1", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	dns.AddTXT(k.DNSName, k.DNSValue)
	e.dkimTXT = k.DNSValue
	pass, c, err := srv.Tenants.CreateSMTPCredential(ctx, tn.ID, tenant.SMTPCredentialOptions{Name: "ehr"})
	if err != nil {
		t.Fatal(err)
	}
	e.user, e.pass = c.Username, pass
	return e
}

// waitDelivered waits until the receiver holds n messages.
func (e *env) waitDelivered(n int) []devnet.Received {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := e.rcv.Messages(); len(m) >= n {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("receiver has %d messages, want %d", len(e.rcv.Messages()), n)
	return nil
}

// raw is a hand-driven SMTP client: it writes exactly the bytes a test gives it.
type raw struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, addr string, implicitTLS bool, pool interface{}) *raw {
	t.Helper()
	var c net.Conn
	var err error
	if implicitTLS {
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- test client against the test server's certificate
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := &raw{t: t, conn: c, r: bufio.NewReader(c)}
	r.expect("220")
	return r
}

func (r *raw) send(s string) {
	r.t.Helper()
	if _, err := r.conn.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// reply reads one whole (possibly multi-line) reply and returns its last line.
func (r *raw) reply() string {
	r.t.Helper()
	var all []string
	for {
		line, err := r.r.ReadString('\n')
		if err != nil {
			r.t.Fatalf("reading reply after %q: %v", all, err)
		}
		all = append(all, strings.TrimRight(line, "\r\n"))
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(all, "\n")
		}
	}
}

func (r *raw) expect(prefix string) string {
	r.t.Helper()
	got := r.reply()
	last := got[strings.LastIndex(got, "\n")+1:]
	if !strings.HasPrefix(last, prefix) {
		r.t.Fatalf("reply %q, want %s", got, prefix)
	}
	return got
}

func (r *raw) cmd(line, prefix string) string {
	r.t.Helper()
	r.send(line + "\r\n")
	return r.expect(prefix)
}

// startTLS upgrades a 587 session.
func (r *raw) startTLS() {
	r.t.Helper()
	r.cmd("STARTTLS", "220")
	r.handshake()
}

func (r *raw) handshake() {
	r.t.Helper()
	tc := tls.Client(r.conn, &tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- test client
	if err := tc.Handshake(); err != nil {
		r.t.Fatal(err)
	}
	r.conn, r.r = tc, bufio.NewReader(tc)
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
