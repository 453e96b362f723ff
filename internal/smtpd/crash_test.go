package smtpd_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// kill -9 during a burst of SMTP submissions: every message that got 250 is delivered
// once the process is started again (RFC 5321 6.1: a 250 is a promise).
func TestKillDuringSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		bin := sealpostBinary(t)
		ca, _ := devnet.NewCA()
		rcert, _ := ca.Issue("mx." + patientDomain)
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
		scert, _ := ca.Issue("localhost", "127.0.0.1")
		writePEM(t, filepath.Join(dir, "smtp.pem"), "CERTIFICATE", scert.Certificate[0])
		keyDER, err := x509.MarshalPKCS8PrivateKey(scert.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, filepath.Join(dir, "smtp.key"), "PRIVATE KEY", keyDER)
		os.WriteFile(filepath.Join(dir, "ca.pem"), ca.CertPEM(), 0o600)
		smtpAddr := freeAddr(t)
		cfgPath := filepath.Join(dir, "sealpost.toml")
		cfg := fmt.Sprintf(`data_dir = %q
database_url = %q
hostname = "sealpost.test"
[delivery]
port = %d
dns_server = %q
ca_file = %q
retry = ["1s", "2s"]
drain_timeout = "5s"
lease = "5s"
[smtp]
submissions = %q
tls_cert = %q
tls_key = %q
max_client_connections = 100
`, dir, dbURL, rcv.Port(), dns.Addr(), filepath.Join(dir, "ca.pem"), smtpAddr, filepath.Join(dir, "smtp.pem"), filepath.Join(dir, "smtp.key"))
		os.WriteFile(cfgPath, []byte(cfg), 0o600)
		environ := append(os.Environ(), "SEALPOST_MASTER_KEY="+seal.EncodeKey(seal.GenerateMasterKey()))
		run := func(args ...string) string {
			cmd := exec.Command(bin, append(args, "--config", cfgPath)...)
			cmd.Env = environ
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("sealpost %v: %v\n%s", args, err, errb.String())
			}
			return out.String()
		}
		run("tenant", "create", "clinic")
		run("domain", "add", "--tenant", "clinic", "--verified", "clinic.example")
		creds := run("smtp-credential", "create", "--tenant", "clinic")
		user := regexp.MustCompile(`username: (\S+)`).FindStringSubmatch(creds)[1]
		pass := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(creds)[1]
		start := func(name string) *exec.Cmd {
			logf, _ := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
			cmd := exec.Command(bin, "serve", "--config", cfgPath)
			cmd.Env = append(environ, "SEALPOST_API_LISTEN="+freeAddr(t))
			cmd.Stdout, cmd.Stderr = logf, logf
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
			for range 200 {
				if c, err := net.Dial("tcp", smtpAddr); err == nil {
					c.Close()
					return cmd
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatalf("%s: SMTP not listening", name)
			return nil
		}
		first := start("first")

		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					subject := fmt.Sprintf("m-%d-%d", w, i)
					if submitOne(smtpAddr, user, pass, subject) == nil {
						mu.Lock()
						acked[subject] = true
						mu.Unlock()
					}
				}
			}()
		}
		// Kill once a burst is under way and deliveries are racing acceptances.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 60 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		first.Process.Signal(syscall.SIGKILL)
		first.Wait()
		close(stop)
		wg.Wait()
		if len(acked) == 0 {
			t.Fatal("nothing acknowledged before the kill")
		}
		start("second")
		want := len(acked)
		deadline = time.Now().Add(60 * time.Second)
		var missing []string
		for {
			got := map[string]bool{}
			for _, m := range rcv.Messages() {
				if s := subjectOf(m.Data); s != "" {
					got[s] = true
				}
			}
			missing = missing[:0]
			for s := range acked {
				if !got[s] {
					missing = append(missing, s)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(missing) > 0 {
			t.Fatalf("%d of %d acknowledged messages never delivered, e.g. %v", len(missing), want, missing[:min(5, len(missing))])
		}
		t.Logf("%d messages acknowledged with 250 before kill -9; all delivered after restart (%d deliveries in all)", want, len(rcv.Messages()))
	})
}

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
		if out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/sealpost").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func submitOne(addr, user, pass, subject string) error {
	c, err := smtp.DialTLS(addr, &tls.Config{InsecureSkipVerify: true}) // #nosec G402 -- test client
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
		return err
	}
	msg := "From: a@clinic.example\r\nTo: pat@" + patientDomain + "\r\nSubject: " + subject + "\r\n\r\nmessage\r\n"
	return c.SendMail("a@clinic.example", []string{"pat@" + patientDomain}, strings.NewReader(msg))
}

func subjectOf(data []byte) string {
	m := regexp.MustCompile(`(?m)^Subject: (m-\d+-\d+)\r?$`).FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
