package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestReadmeWalkthrough does what the README's first section tells a newcomer to do:
// start `sealpost dev`, paste the curl command it prints into a shell, and find the
// message in the dev mailbox. The command is taken from dev's own output, so the test
// follows whatever dev prints, and runs it with the real curl.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a built sealpost dev process")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (scripts/deps.sh installs it): the walkthrough runs the printed curl command")
	}
	dev := startDev(t)

	command, payload := dev.curlCommand(t)
	var draft struct {
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal([]byte(payload), &draft); err != nil || draft.Subject == "" {
		t.Fatalf("the printed command's JSON body has no subject (%v): %s", err, payload)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sh := exec.CommandContext(ctx, "sh", "-c", command)
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("running the printed command: %v\ncommand:\n%s\noutput: %s", err, command, out)
	}
	var accepted struct {
		ID         string `json:"id"`
		Recipients []struct {
			ID string `json:"id"`
		} `json:"recipients"`
	}
	if err := json.Unmarshal(out, &accepted); err != nil || accepted.ID == "" || len(accepted.Recipients) == 0 || accepted.Recipients[0].ID == "" {
		t.Fatalf("the printed command did not answer with a message id and recipient ids (%v): %s", err, out)
	}

	mailbox := dev.mailboxURL(t)
	want := html.EscapeString(draft.Subject)
	deadline := time.Now().Add(30 * time.Second)
	for {
		page := get(t, mailbox)
		if strings.Contains(page, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s not in the mailbox at %s after 30s; page:\n%s\ndev log:\n%s", accepted.ID, mailbox, page, dev.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// As the README says: the raw source shows the DKIM signature and the Received header.
	raw := get(t, mailbox+"?id=1")
	for _, w := range []string{"DKIM-Signature:", "Received:", "Subject: " + draft.Subject} {
		if !strings.Contains(raw, w) {
			t.Errorf("the delivered message lacks %q:\n%s", w, raw)
		}
	}
}

// devProcess is a running `sealpost dev` and what it has printed so far.
type devProcess struct {
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	ready  chan struct{} // closed once the curl command has been printed in full
}

func (d *devProcess) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

func (d *devProcess) printed() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stdout.String()
}

// curlCommandRE finds the first command line that starts with curl and its backslash
// continuations.
var curlCommandRE = regexp.MustCompile(`(?m)^[ \t]*curl (?:[^\n]*\\\n)*[^\n]*`)

// payloadRE finds the JSON body of a -d '…' argument.
var payloadRE = regexp.MustCompile(`(?s)-d '([^']*)'`)

// curlCommand waits for dev to print its curl command and returns it as printed,
// with the JSON body it sends.
func (d *devProcess) curlCommand(t *testing.T) (command, payload string) {
	t.Helper()
	select {
	case <-d.ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("sealpost dev printed no curl command within 60s; stdout:\n%s\nlog:\n%s", d.printed(), d.log())
	}
	command = curlCommandRE.FindString(d.printed())
	m := payloadRE.FindStringSubmatch(command)
	if m == nil {
		t.Fatalf("the printed curl command sends no -d '…' body:\n%s", command)
	}
	return command, m[1]
}

// mailboxURL is the dev mailbox address dev printed.
func (d *devProcess) mailboxURL(t *testing.T) string {
	t.Helper()
	u := regexp.MustCompile(`http://[^\s]+/dev/mailbox`).FindString(d.printed())
	if u == "" {
		t.Fatalf("sealpost dev printed no mailbox address:\n%s", d.printed())
	}
	return u
}

// startDev builds sealpost, starts `sealpost dev` on a free loopback port with its data
// in a temporary directory, and stops it with SIGTERM when the test ends.
func startDev(t *testing.T) *devProcess {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "sealpost")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is not on PATH: the walkthrough builds sealpost")
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "dev", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	// dev refuses SEALPOST_* settings; the test harness's own variables are not for it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SEALPOST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	d := &devProcess{ready: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &d.mu, w: &d.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			d.mu.Lock()
			d.stdout.WriteString(sc.Text() + "\n")
			full := d.stdout.String()
			d.mu.Unlock()
			// The command is complete at its first line that does not continue.
			if c := curlCommandRE.FindString(full); !signalled && c != "" && !strings.HasSuffix(full, "\\\n") {
				signalled = true
				close(d.ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan error, 1)
		go func() { <-done; exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("sealpost dev did not stop cleanly on SIGTERM: %v\nlog:\n%s", err, d.log())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("sealpost dev still running 30s after SIGTERM; killed")
		}
	})
	return d
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
