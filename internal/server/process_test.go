package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sealpostBinary builds the real command once per test run.
func sealpostBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealpost-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sealpost")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/sealpost").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// procEnv is the world around Sealpost processes: DNS, a receiver, a config file.
type procEnv struct {
	t       *testing.T
	bin     string
	dir     string
	cfgPath string
	environ []string
	rcv     *devnet.Receiver
	key     string
}

func newProcEnv(t *testing.T, dbURL string) *procEnv {
	t.Helper()
	return newProcEnvWith(t, dbURL, procOptions{})
}

// procOptions change the world newProcEnv makes.
type procOptions struct {
	respond func(rcpt string, attempt int) *smtp.SMTPError // the receiver's answer; nil accepts
	retry   string                                         // delivery.retry as TOML; default ["1s", "2s"]
}

func newProcEnvWith(t *testing.T, dbURL string, o procOptions) *procEnv {
	t.Helper()
	if o.retry == "" {
		o.retry = `["1s", "2s"]`
	}
	ca, _ := devnet.NewCA()
	cert, _ := ca.Issue("mx." + patientDomain)
	rcv, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "mx." + patientDomain, TLSCert: &cert, MaxStored: 100000, Respond: o.respond})
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
	p := &procEnv{t: t, bin: sealpostBinary(t), dir: t.TempDir(), rcv: rcv}
	os.WriteFile(filepath.Join(p.dir, "ca.pem"), ca.CertPEM(), 0o600)
	p.cfgPath = filepath.Join(p.dir, "sealpost.toml")
	cfg := fmt.Sprintf(`data_dir = %q
database_url = %q
hostname = "sealpost.test"
[delivery]
port = %d
dns_server = %q
ca_file = %q
retry = %s
drain_timeout = "5s"
lease = "5s"
[log]
level = "info"
`, p.dir, dbURL, rcv.Port(), dns.Addr(), filepath.Join(p.dir, "ca.pem"), o.retry)
	os.WriteFile(p.cfgPath, []byte(cfg), 0o600)
	p.environ = append(os.Environ(), "SEALPOST_MASTER_KEY="+seal.EncodeKey(seal.GenerateMasterKey()),
		// Load and crash tests send far above the request limits; access_test.go tests them.
		"SEALPOST_ACCESS_CREDENTIAL_RATE=0", "SEALPOST_ACCESS_TENANT_RATE=0")
	p.run("tenant", "create", "clinic")
	p.run("domain", "add", "--tenant", "clinic", "--verified", "clinic.example")
	p.key = strings.TrimSpace(p.run("key", "create", "--tenant", "clinic", "--scopes", "send,read"))
	return p
}

func (p *procEnv) run(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(p.bin, append(args, "--config", p.cfgPath)...)
	cmd.Env = p.environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		p.t.Fatalf("sealpost %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// start runs `sealpost serve` and waits until it is ready.
func (p *procEnv) start(name string) (*exec.Cmd, string) {
	p.t.Helper()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	logf, _ := os.OpenFile(filepath.Join(p.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	cmd := exec.Command(p.bin, "serve", "--config", p.cfgPath)
	cmd.Env = append(p.environ, "SEALPOST_API_LISTEN="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	base := "http://" + addr
	for i := 0; i < 200; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(p.dir, name+".log"))
	p.t.Fatalf("server %s not ready:\n%s", name, log)
	return nil, ""
}

// sender posts numbered messages and remembers which got a 202.
type sender struct {
	mu    sync.Mutex
	acked map[int]bool
	next  atomic.Int64
}

func (s *sender) run(ctx context.Context, bases []string, key string, total, clients int) {
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(s.next.Add(1)) - 1
				if i >= total {
					return
				}
				body := fmt.Sprintf(`{"from":"a@clinic.example","to":"p%d@patient.example","subject":"m-%d","text":"message %d"}`, i%50, i, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", bases[c%len(bases)]+"/v1/messages", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := hc.Do(req)
				if err != nil {
					continue // not acknowledged: may or may not be delivered
				}
				resp.Body.Close()
				if resp.StatusCode == 202 {
					s.mu.Lock()
					s.acked[i] = true
					s.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

func (s *sender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

var subjectRe = regexp.MustCompile(`(?m)^Subject: m-(\d+)\r$`)

// received counts deliveries per message number.
func received(rcv *devnet.Receiver) map[int]int {
	got := map[int]int{}
	for _, m := range rcv.Messages() {
		if sm := subjectRe.FindSubmatch(m.Data); sm != nil {
			var n int
			fmt.Sscan(string(sm[1]), &n)
			got[n]++
		}
	}
	return got
}

func waitDelivered(t *testing.T, rcv *devnet.Receiver, s *sender, within time.Duration) map[int]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := received(rcv)
		missing := 0
		s.mu.Lock()
		for i := range s.acked {
			if got[i] == 0 {
				missing++
			}
		}
		s.mu.Unlock()
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged messages never delivered", missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestKill9LosesNothing kills the server with SIGKILL while it accepts and delivers,
// restarts it, and checks every acknowledged message is delivered.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		p := newProcEnv(t, dbURL)
		const total = 3000
		s := &sender{acked: map[int]bool{}}
		cmd, base := p.start("first")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.run(ctx, []string{base}, p.key, total, 32); close(done) }()
		for s.count() < total/3 {
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		beforeKill := s.count()
		cancel()
		<-done
		_, base = p.start("second")
		s.next.Store(int64(s.next.Load()))
		s.run(context.Background(), []string{base}, p.key, total, 32)
		got := waitDelivered(t, p.rcv, s, 60*time.Second)
		dups := 0
		for _, n := range got {
			dups += n - 1
		}
		t.Logf("acknowledged %d (%d before SIGKILL), delivered %d distinct, %d duplicates", s.count(), beforeKill, len(got), dups)
		if dups > 64 {
			t.Fatalf("%d duplicates: more than the deliveries that can be in flight", dups)
		}
	})
}

// TestTwoServersShareOnePostgres runs two processes on one database and checks that
// no message is delivered twice.
func TestTwoServersShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := newProcEnv(t, storetest.PostgresURL(t))
	_, a := p.start("a")
	_, b := p.start("b")
	s := &sender{acked: map[int]bool{}}
	s.run(context.Background(), []string{a, b}, p.key, 3000, 32)
	got := waitDelivered(t, p.rcv, s, 60*time.Second)
	logA, _ := os.ReadFile(filepath.Join(p.dir, "a.log"))
	logB, _ := os.ReadFile(filepath.Join(p.dir, "b.log"))
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	if dups > 0 {
		errs := 0
		for _, l := range strings.Split(string(logA)+string(logB), "\n") {
			if strings.Contains(l, `"level":"ERROR"`) && errs < 10 {
				t.Log(l)
				errs++
			}
		}
		t.Errorf("%d duplicate deliveries", dups)
	}
	da, db := strings.Count(string(logA), "delivery delivered"), strings.Count(string(logB), "delivery delivered")
	t.Logf("acknowledged %d, delivered %d; server a delivered %d, server b %d", s.count(), len(got), da, db)
	if da == 0 || db == 0 {
		t.Errorf("work not shared: a %d, b %d", da, db)
	}
}

// TestSIGTERMDrainsAndLosesNothing stops the server with SIGTERM during a burst of
// deliveries: it exits 0 within its drain deadline, and after a restart every
// acknowledged message is delivered.
func TestSIGTERMDrainsAndLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := newProcEnv(t, storetest.SQLiteURL(t))
	cmd, base := p.start("first")
	s := &sender{acked: map[int]bool{}}
	s.run(context.Background(), []string{base}, p.key, 1500, 32)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if took > 8*time.Second { // drain_timeout is 5s
		t.Fatalf("shutdown took %v", took)
	}
	deliveredBefore := len(received(p.rcv))
	_, _ = p.start("second")
	got := waitDelivered(t, p.rcv, s, 60*time.Second)
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	t.Logf("acknowledged %d; %d delivered before SIGTERM (stopped in %v), rest after restart; %d duplicates", s.count(), deliveredBefore, took.Round(time.Millisecond), dups)
	if dups != 0 {
		for n, c := range got {
			if c > 1 {
				t.Logf("m-%d delivered %d times", n, c)
			}
		}
		for _, name := range []string{"first", "second"} {
			b, _ := os.ReadFile(filepath.Join(p.dir, name+".log"))
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, "worker stopped") || strings.Contains(l, "released") {
					t.Logf("%s: %s", name, l)
				}
			}
		}
		t.Fatalf("graceful stop caused %d duplicate deliveries", dups)
	}
}
