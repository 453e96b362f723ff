package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/dkimsign"
)

// The Postfix side of the comparison: the machine's Postfix relays smtp-source's
// messages to the same kind of receiver the Sealpost run delivers to, with the same
// transport security — STARTTLS verified against the bench CA and the receiver's
// name, sessions cached and connections reused (tlsproxy) — and, with DKIM, an
// OpenDKIM milter signing with its own RSA-2048 key. Postfix's settings are written
// for the run and the previous main.cf and master.cf put back afterwards.

const postfixDomain = "bench.example" // smtp-source's sender domain, which OpenDKIM signs

// RunPostfix performs one run of Postfix with the options of a Sealpost run
// (Messages, Clients, Size, TLS, DKIM "rsa" or "none", Timeout).
func RunPostfix(ctx context.Context, o Options, progress io.Writer) (*Result, error) {
	if o.DKIM != "rsa" && o.DKIM != "none" {
		return nil, fmt.Errorf("postfix runs sign with rsa or none, not %q", o.DKIM)
	}
	tools := []string{"postfix", "postconf", "postsuper", "smtp-source"}
	if o.DKIM == "rsa" {
		tools = append(tools, "opendkim")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("%s not found: scripts/postfix-bench.sh installs Postfix and OpenDKIM", t)
		}
	}
	if exec.Command("postfix", "status").Run() == nil {
		return nil, errors.New("postfix is already running; the comparison needs its own instance (postfix stop)")
	}
	dir, err := os.MkdirTemp("", "sealpost-bench-postfix-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	ca, err := devnet.NewCA()
	if err != nil {
		return nil, err
	}
	ropts := devnet.ReceiverOptions{Hostname: "mx.rcpt.example", MaxStored: 16}
	if o.TLS {
		cert, err := ca.Issue("mx.rcpt.example")
		if err != nil {
			return nil, err
		}
		ropts.TLSCert = &cert
	}
	rcv, err := devnet.StartReceiver(ropts)
	if err != nil {
		return nil, err
	}
	defer rcv.Close()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o600); err != nil {
		return nil, err
	}

	var dkimRecord string
	var milter *exec.Cmd
	milterAddr := ""
	if o.DKIM == "rsa" {
		milterAddr, dkimRecord, milter, err = startOpenDKIM(dir)
		if err != nil {
			return nil, err
		}
		defer func() { milter.Process.Kill(); milter.Wait() }()
	}

	smtpdPort, err := freePort()
	if err != nil {
		return nil, err
	}
	restore, err := configurePostfix(dir, o, rcv.Port(), smtpdPort, caFile, milterAddr)
	defer restore()
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command("postfix", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "postfix.log")) // #nosec G304 -- our own temporary directory
		return nil, fmt.Errorf("postfix start: %v: %s%s", err, out, log)
	}
	defer stopPostfix()
	master, err := masterPID()
	if err != nil {
		return nil, err
	}
	if err := waitListening(fmt.Sprintf("127.0.0.1:%d", smtpdPort)); err != nil {
		return nil, fmt.Errorf("postfix smtpd: %w", err)
	}
	cpu0 := treeCPU(master) + milterCPU(milter)

	r := &Result{Database: "postfix", Messages: o.Messages, Clients: o.Clients, SizeBytes: o.Size, TLS: o.TLS, DKIM: o.DKIM}
	start := time.Now()
	// -l counts the body; smtp-source adds From, To, Date and Message-Id.
	src := exec.CommandContext(ctx, "smtp-source", "-s", strconv.Itoa(o.Clients), "-m", strconv.Itoa(o.Messages), // #nosec G204 -- fixed tool, numeric arguments
		"-l", strconv.Itoa(o.Size), "-M", "client.bench", "-f", "b@"+postfixDomain, "-t", "r@rcpt.example", fmt.Sprintf("127.0.0.1:%d", smtpdPort))
	if out, err := src.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("smtp-source: %v: %s", err, out)
	}
	acceptDone := time.Since(start)
	r.Accepted = o.Messages
	r.AcceptedPerS = float64(o.Messages) / acceptDone.Seconds()
	fmt.Fprintf(progress, "postfix accepted %d in %v; waiting for delivery\n", o.Messages, acceptDone.Round(time.Millisecond))

	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	werr := rcv.WaitCount(wctx, o.Messages)
	r.Delivered, r.Connections = rcv.Count(), rcv.Connections()
	r.DeliveredPerS = float64(r.Delivered) / time.Since(start).Seconds()
	r.ServerCPUs = (treeCPU(master) + milterCPU(milter) - cpu0).Seconds()
	r.CPUPerMessageMs = cpuPerMessage(r)
	if werr != nil {
		return r, fmt.Errorf("postfix: only %d of %d delivered within %v", r.Delivered, o.Messages, o.Timeout)
	}
	// Like for like, or no comparison: what arrived went over verified TLS and
	// carries a signature that verifies.
	for _, m := range rcv.Messages() {
		if o.TLS && m.TLS == nil {
			return r, errors.New("postfix delivered without TLS")
		}
		if o.DKIM == "rsa" {
			if err := verifyDKIM(m.Data, dkimRecord); err != nil {
				return r, fmt.Errorf("postfix's DKIM signature: %w", err)
			}
		}
	}
	return r, nil
}

// startOpenDKIM runs an OpenDKIM milter signing postfixDomain with a new RSA-2048 key,
// relaxed/relaxed like Sealpost; it returns the milter address and the key's TXT value.
func startOpenDKIM(dir string) (string, string, *exec.Cmd, error) {
	key, err := dkimsign.GenerateKey("rsa")
	if err != nil {
		return "", "", nil, err
	}
	pemKey, err := dkimsign.MarshalPrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	_, record, err := dkimsign.DNSRecord("bench", postfixDomain, key.Public())
	if err != nil {
		return "", "", nil, err
	}
	keyFile := filepath.Join(dir, "dkim.key")
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		return "", "", nil, err
	}
	port, err := freePort()
	if err != nil {
		return "", "", nil, err
	}
	conf := filepath.Join(dir, "opendkim.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`Syslog no
Mode s
Domain %s
Selector bench
KeyFile %s
Socket inet:%d@127.0.0.1
Canonicalization relaxed/relaxed
SignatureAlgorithm rsa-sha256
InternalHosts 127.0.0.1
RequireSafeKeys no
`, postfixDomain, keyFile, port)), 0o600); err != nil {
		return "", "", nil, err
	}
	cmd := exec.Command("opendkim", "-f", "-x", conf) // #nosec G204 -- fixed tool; conf is our own temporary file
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitListening(addr); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return "", "", nil, fmt.Errorf("opendkim: %v: %s", err, logs.String())
	}
	return "inet:" + addr, record, cmd, nil
}

// configurePostfix writes the run's settings and returns what puts the previous
// main.cf and master.cf back.
func configurePostfix(dir string, o Options, rcvPort, smtpdPort int, caFile, milter string) (func(), error) {
	confDir := "/etc/postfix"
	var saved []func()
	restore := func() {
		for _, f := range saved {
			f()
		}
	}
	for _, name := range []string{"main.cf", "master.cf"} {
		p := filepath.Join(confDir, name)
		old, err := os.ReadFile(p) // #nosec G304 -- Postfix's own configuration files
		if err != nil && !os.IsNotExist(err) {
			return restore, err
		}
		saved = append(saved, func() { os.WriteFile(p, old, 0o644) }) // #nosec G306 G703 -- Postfix's own files, put back as they were (world-readable)
	}
	relay := fmt.Sprintf("[127.0.0.1]:%d", rcvPort)
	tlsLevel, policy := "none", ""
	if o.TLS {
		// The receiver is addressed by IP; its certificate names mx.rcpt.example.
		tlsLevel, policy = "secure", "inline:{ {"+relay+" = secure match=mx.rcpt.example} }"
	}
	conc := strconv.Itoa(o.Clients)
	main := []string{
		"compatibility_level=3.6", "myhostname=postfix.bench", "mydomain=" + postfixDomain, "mydestination=",
		"inet_interfaces=127.0.0.1", "inet_protocols=ipv4", "mynetworks=127.0.0.0/8",
		"alias_maps=", "alias_database=", "smtputf8_enable=no", "biff=no",
		"relayhost=" + relay, "default_transport=smtp", "relay_transport=smtp", "smtp_dns_support_level=disabled",
		"smtpd_relay_restrictions=permit_mynetworks,reject", "smtpd_recipient_restrictions=",
		"default_destination_concurrency_limit=" + conc, "smtp_destination_concurrency_limit=" + conc,
		"initial_destination_concurrency=" + conc, "default_process_limit=" + strconv.Itoa(o.Clients+36),
		"smtp_tls_security_level=" + tlsLevel, "smtp_tls_policy_maps=" + policy, "smtp_tls_CAfile=" + caFile,
		"smtp_tls_session_cache_database=btree:${data_directory}/smtp_scache", "smtp_tls_connection_reuse=yes",
		"smtpd_milters=" + milter, "non_smtpd_milters=", "milter_default_action=tempfail",
		"maillog_file=" + filepath.Join(dir, "postfix.log"), "maillog_file_prefixes=" + dir,
	}
	steps := [][]string{
		append([]string{"-e"}, main...),
		{"-Fe", "*/*/chroot=n"},
		{"-MX", "smtp/inet"},
		{"-Me", fmt.Sprintf("127.0.0.1:%d/inet=127.0.0.1:%d inet n - n - - smtpd", smtpdPort, smtpdPort)},
		{"-Me", "tlsproxy/unix=tlsproxy unix - - n - 0 tlsproxy"},
		{"-Me", "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"},
	}
	for _, args := range steps {
		if out, err := exec.Command("postconf", args...).CombinedOutput(); err != nil { // #nosec G204 -- fixed tool, our own settings
			return restore, fmt.Errorf("postconf %s: %v: %s", args[0], err, out)
		}
	}
	return restore, nil
}

// stopPostfix stops the instance and drops anything left in its queue.
func stopPostfix() {
	exec.Command("postsuper", "-d", "ALL").Run()
	exec.Command("postfix", "stop").Run()
	for range 100 {
		if exec.Command("postfix", "status").Run() != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func masterPID() (int, error) {
	q, err := exec.Command("postconf", "-h", "queue_directory").Output()
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(q)), "pid", "master.pid")) // #nosec G304 -- Postfix's pid file
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(addr string) error {
	var err error
	for range 100 {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func milterCPU(cmd *exec.Cmd) time.Duration {
	if cmd == nil {
		return 0
	}
	self, _ := procCPU(cmd.Process.Pid)
	return self
}

func verifyDKIM(msg []byte, record string) error {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{record}, nil }})
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return errors.New("no signature")
	}
	for _, v := range vs {
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}
