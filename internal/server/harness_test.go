package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
)

// env is a running Sealpost with the internet around it stood in for by devnet: a DNS
// server, a CA, and a receiving SMTP server with STARTTLS.
type env struct {
	t       testing.TB
	srv     *server.Server
	base    string
	key     string // admin key of tenant "clinic"
	tenant  string
	rcv     *devnet.Receiver
	dns     *devnet.DNS
	ca      *devnet.CA
	dkimTXT string
	logs    *syncBuffer
	dataDir string
	sts     *devnet.PolicyServer // MTA-STS policies over HTTPS, for every domain
	cfg     config.Config        // as started; a twin server starts from it
	ring    *seal.Keyring
}

type envOptions struct {
	respond func(rcpt string, attempt int) *smtp.SMTPError
	retry   []string
	roles   string // default both api and worker
	expire  string
	quiet   bool // log at warn (benchmarks)
	dnssec  bool // use the test DNS server as the validating resolver (DANE)
	// configure adjusts the configuration before the server starts.
	configure func(*config.Config)
	// options adjusts the server's options before it starts.
	options func(*server.Options)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const patientDomain = "patient.example"

func newEnv(t testing.TB, dbURL string, o envOptions) *env {
	t.Helper()
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("mx." + patientDomain)
	if err != nil {
		t.Fatal(err)
	}
	ropts := devnet.ReceiverOptions{Hostname: "mx." + patientDomain, TLSCert: &cert}
	if o.respond != nil {
		ropts.Respond = o.respond
	}
	rcv, err := devnet.StartReceiver(ropts)
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

	cfg := config.Default()
	cfg.Archive.Journal = true // every test server journals, so the archive is exercised everywhere
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dbURL
	cfg.Hostname = "sealpost.test"
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Delivery.Port = rcv.Port()
	cfg.Delivery.DNSServer = dns.Addr()
	cfg.Delivery.Retry = []string{"300ms", "600ms"}
	if o.retry != nil {
		cfg.Delivery.Retry = o.retry
	}
	cfg.Delivery.DrainTimeout = "5s"
	if o.expire != "" {
		cfg.Delivery.Expire = o.expire
	}
	if o.roles != "" {
		cfg.Roles = o.roles
	}
	cfg.MasterKeyFile = cfg.DataDir + "/master.key"
	if o.dnssec {
		cfg.Secure.DNSSECResolver = dns.Addr()
	}
	sts := devnet.StartPolicyServer(ca)
	t.Cleanup(sts.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Secure.PortalURL = "http://" + ln.Addr().String()
	// Every test client comes from 127.0.0.1; the race tests open up to 200 connections
	// at once. The cap itself is tested against the server process (flood_test.go).
	cfg.API.MaxClientConns = 1024
	// Request limits are off unless a test turns them on (access_test.go); the OAuth
	// issuer is this server's address.
	cfg.Access.CredentialRate, cfg.Access.TenantRate = 0, 0
	cfg.Access.Issuer = cfg.Secure.PortalURL
	if o.configure != nil {
		o.configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	level := slog.LevelDebug
	if o.quiet {
		level = slog.LevelWarn
	}
	sopt := server.Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level})), Keyring: ring, RootCAs: ca.Pool(), Listener: ln, HTTPClient: sts.Client()}
	if o.options != nil {
		o.options(&sopt)
	}
	srv, err := server.New(ctx, &cfg, sopt)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
	})
	e := &env{t: t, srv: srv, base: "http://" + ln.Addr().String(), rcv: rcv, dns: dns, ca: ca, logs: logs, dataDir: cfg.DataDir, sts: sts, cfg: cfg, ring: ring}
	e.tenant, e.key = e.addTenant("clinic", "clinic.example")
	return e
}

// addTenant makes a tenant with a verified domain, an RSA DKIM key published in DNS,
// and an admin key.
func (e *env) addTenant(name, domain string) (id, key string) {
	e.t.Helper()
	ctx := context.Background()
	tn, err := e.srv.Tenants.Create(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.srv.Tenants.AddDomain(ctx, tn.ID, domain, true); err != nil {
		e.t.Fatal(err)
	}
	k, err := e.srv.Tenants.GenerateDKIM(ctx, tn.ID, domain, "s1", "rsa")
	if err != nil {
		e.t.Fatal(err)
	}
	e.dns.AddTXT(k.DNSName, k.DNSValue)
	if e.dkimTXT == "" {
		e.dkimTXT = k.DNSValue
	}
	secret, _, err := e.srv.Tenants.CreateKey(ctx, tn.ID, tenant.KeyOptions{Name: "test", Scopes: []string{tenant.ScopeAdmin}})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn.ID, secret
}

// do sends a request and decodes a JSON answer.
func (e *env) do(method, path, key string, body any, hdr ...string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") { // the contacts export
		return resp.StatusCode, map[string]any{"csv": string(raw)}
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		e.t.Errorf("%s %s: %d without problem+json", method, path, resp.StatusCode)
	}
	return resp.StatusCode, out
}

func (e *env) send(key string, msg map[string]any, hdr ...string) (int, map[string]any) {
	return e.do("POST", "/v1/messages", key, msg, hdr...)
}

// waitStatus polls a message until every recipient reaches a final status.
func (e *env) waitFinal(id string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, m := e.do("GET", "/v1/messages/"+id, e.key, nil)
		final := true
		for _, r := range m["recipients"].([]any) {
			switch r.(map[string]any)["status"] {
			case "delivered", "bounced", "expired":
			default:
				final = false
			}
		}
		if final {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("message %s not final in time", id)
	return nil
}

func (e *env) events(query string) []map[string]any {
	e.t.Helper()
	_, out := e.do("GET", "/v1/events?"+query, e.key, nil)
	var evs []map[string]any
	for _, v := range out["events"].([]any) {
		evs = append(evs, v.(map[string]any))
	}
	return evs
}

// dkimVerify checks a message's signature with dkimpy, an independent implementation,
// answering its DNS query with the record we published.
func dkimVerify(t *testing.T, msg []byte, txt string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatal("need /usr/bin/python3 with python3-dkim (scripts/deps.sh installs it)")
	}
	script := `
import sys, dkim
rec = sys.argv[1].encode()
ok = dkim.verify(sys.stdin.buffer.read(), dnsfunc=lambda name, timeout=5: rec)
print("PASS" if ok else "FAIL")
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, txt)
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "PASS" {
		t.Fatalf("dkimpy does not verify our signature: %v %s", err, out)
	}
}
