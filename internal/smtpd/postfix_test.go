package smtpd_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Debian's Postfix, configured as an organisation's outbound relay would be
// (relayhost = our relay listener, smtp_tls_security_level = encrypt), relays a
// message its organisation signed; Sealpost recognises the tenant by that DKIM
// signature and delivers over verified TLS, signed by us in a form dkimpy verifies.
func TestPostfixRelay(t *testing.T) {
	if _, err := exec.LookPath("postfix"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("SEALPOST_REQUIRE_POSTFIX") != "" {
			t.Fatal("Postfix (run as root) is required: scripts/deps.sh installs it")
		}
		t.Skip("needs Debian's postfix and root (scripts/deps.sh installs it)")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		ctx := context.Background()
		if _, err := e.srv.Tenants.AddRelayProof(ctx, e.tenant, "clinic.example", tenant.RelayDKIM, "google"); err != nil {
			t.Fatal(err)
		}
		key := e.publishKey("clinic.example", "google")
		port := startPostfix(t, e.relay)
		to := "pat@" + patientDomain
		msg := signed(t, "clinic.example", "google", key, "staff@clinic.example", to)
		if err := smtp.SendMail(fmt.Sprintf("127.0.0.1:%d", port), nil, "staff@clinic.example", []string{to}, []byte(msg)); err != nil {
			t.Fatalf("submit to postfix: %v", err)
		}
		m := e.waitDelivered(1)[0]
		if m.TLS == nil || len(m.To) != 1 || m.To[0] != to {
			t.Fatalf("delivered %v over TLS %v", m.To, m.TLS != nil)
		}
		data := string(m.Data)
		if !strings.Contains(data, "with ESMTPS id msg_") || !strings.Contains(data, "Relayed through the gateway.") {
			t.Errorf("delivered message:\n%s", data)
		}
		dkimpyVerify(t, m.Data, e.dkimTXT)
	})
}

// startPostfix runs a private Postfix instance (its own config, queue and data
// directories) whose relayhost is relay, and returns the port of its smtpd.
func startPostfix(t *testing.T, relay string) int {
	t.Helper()
	return startPostfixTo(t, relay, "encrypt")
}

// startPostfixTo is startPostfix with the TLS level for the relayhost.
func startPostfixTo(t *testing.T, relay, tlsLevel string) int {
	t.Helper()
	dir, err := os.MkdirTemp("", "sealpost-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	// Postfix's daemons run as the postfix user: the tree must be traversable and its
	// data directory theirs; the queue directory belongs to root.
	if err := os.Chmod(dir, 0o755); err != nil { // #nosec G302 -- Postfix's daemons must traverse it
		t.Fatal(err)
	}
	for _, d := range []string{"queue", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil { // #nosec G301 -- as Postfix expects
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "postfix", filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	master, err := os.ReadFile("/usr/share/postfix/master.cf.dist")
	if err != nil {
		t.Skipf("no master.cf template: %v", err)
	}
	// No chroot (the private tree is not set up for one); smtpd on our port.
	mcf := regexp.MustCompile(`(?m)^smtp(\s+inet\s+n\s+-\s+)y`).ReplaceAllString(string(master), fmt.Sprintf("127.0.0.1:%d${1}n", port))
	mcf = regexp.MustCompile(`(?m)^(\S+\s+unix\S*\s+[-n]\s+[-n]\s+)y`).ReplaceAllString(mcf, "${1}n")
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.clinic.example
mydestination =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [%[2]s]:%[3]s
smtp_tls_security_level = %[4]s
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
`, dir, hostOf(relay), portOf(relay), tlsLevel)
	for name, body := range map[string]string{"main.cf": main, "master.cf": mcf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil { // #nosec G306 -- Postfix reads it as another user
			t.Fatal(err)
		}
	}
	run := func(args ...string) error {
		out, err := exec.Command("postfix", append([]string{"-c", dir}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("postfix %v: %v %s", args, err, out)
		}
		return nil
	}
	if err := run("start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
		t.Fatalf("%v (in %s)\n%s", err, dir, log)
	}
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
			t.Logf("postfix log:\n%s", log)
		}
		run("stop")
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix smtpd not listening: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// dkimpyVerify checks the message's first DKIM signature with dkimpy (python3-dkim),
// an implementation independent of ours, answering the key query with txt.
func dkimpyVerify(t *testing.T, msg []byte, txt string) {
	t.Helper()
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
