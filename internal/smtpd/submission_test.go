package smtpd_test

import (
	"context"
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/smtpd"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// swaks submits with AUTH on the STARTTLS listener and on the implicit-TLS one, PLAIN
// and LOGIN; each message goes through the pipeline and arrives over verified TLS,
// DKIM-signed, with only the envelope's recipients delivered to.
func TestSwaksSubmission(t *testing.T) {
	if _, err := exec.LookPath("swaks"); err != nil {
		t.Skip("swaks not installed (scripts/deps.sh installs it)")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		runs := []struct {
			name string
			args []string
		}{
			{"587 STARTTLS PLAIN", []string{"--server", e.sub, "--tls", "--auth", "PLAIN"}},
			{"465 implicit TLS LOGIN", []string{"--server", e.subs, "--tls-on-connect", "--auth", "LOGIN"}},
		}
		for i, r := range runs {
			args := append(r.args, "--auth-user", e.user, "--auth-password", e.pass,
				"--from", "results@clinic.example", "--to", "pat@"+patientDomain,
				"--header", "Subject: Your results", "--header", "To: pat@"+patientDomain+", other@"+patientDomain,
				"--body", "Your results are ready.", "--timeout", "20")
			out, err := exec.Command("swaks", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: swaks: %v\n%s", r.name, err, out)
			}
			if !strings.Contains(string(out), "<~  250 2.0.0 OK queued as msg_") {
				t.Fatalf("%s: no 250 with a message id:\n%s", r.name, out)
			}
			msgs := e.waitDelivered(i + 1)
			m := msgs[i]
			if len(m.To) != 1 || m.To[0] != "pat@"+patientDomain {
				t.Errorf("%s: delivered to %v, want only the envelope recipient", r.name, m.To)
			}
			if m.TLS == nil {
				t.Errorf("%s: delivered without TLS", r.name)
			}
			data := string(m.Data)
			for _, want := range []string{"DKIM-Signature:", "with ESMTPSA id msg_", "Your results are ready."} {
				if !strings.Contains(data, want) {
					t.Errorf("%s: delivered message lacks %q:\n%s", r.name, want, data)
				}
			}
		}
		// Both submissions are in the archive, like every accepted message.
		if missing, err := e.srv.DB.MessagesNotArchived(context.Background(), e.tenant); err != nil || len(missing) > 0 {
			t.Errorf("submissions not archived: %v %v", missing, err)
		}
		// The other header recipient was never in the envelope: nothing went to it.
		time.Sleep(300 * time.Millisecond)
		for _, m := range e.rcv.Messages() {
			for _, to := range m.To {
				if strings.HasPrefix(to, "other@") {
					t.Errorf("delivered to a header-only address")
				}
			}
		}
	})
}

// The published end-of-data variants (SEC Consult 2023; hannob/smtpsmug) sent raw
// never yield a second message: a bare CR or LF refuses the whole message with
// 550 5.6.0, and the command smuggled after it is never run.
func TestSmugglingRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		variants := map[string]string{
			"LF.LF":    "\n.\n",
			"LF.CRLF":  "\n.\r\n",
			"CR.CR":    "\r.\r",
			"CRLF.LF":  "\r\n.\n",
			"CR.CRLF":  "\r.\r\n",
			"CRLF.CR":  "\r\n.\r",
			"LF.CR":    "\n.\r",
			"bare LF":  "\n",
			"bare CR":  "\r",
			"CRLF.NUL": "\r\n.\x00\r\n",
		}
		plain := "\r\n.\r\n" // a correct end: where a lax server would stop
		for name, eod := range variants {
			c := dialRaw(t, e.subs, true, nil)
			c.cmd("EHLO client.example", "250")
			c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00"+e.user+"\x00"+e.pass)), "235")
			c.cmd("MAIL FROM:<a@clinic.example>", "250")
			c.cmd("RCPT TO:<pat@"+patientDomain+">", "250")
			c.cmd("DATA", "354")
			smuggled := "MAIL FROM:<a@clinic.example>\r\nRCPT TO:<victim@" + patientDomain + ">\r\nDATA\r\nFrom: a@clinic.example\r\nTo: victim@" + patientDomain + "\r\nSubject: smuggled\r\n\r\nsmuggled\r\n"
			c.send("From: a@clinic.example\r\nTo: pat@" + patientDomain + "\r\nSubject: first\r\n\r\nfirst" + eod + smuggled + plain)
			got := c.reply()
			if name == "CRLF.CR" {
				// go-smtp's DATA reader drops "." and the CR of "<CR><LF>.<CR>"
				// before we see the bytes, so this one cannot be refused here; it
				// still ends nowhere but at <CR><LF>.<CR><LF>: one message, the
				// "smuggled" commands its body.
				if !strings.HasPrefix(got, "250") {
					t.Errorf("%s: %q, want 250 for one message", name, got)
				}
			} else if !strings.HasPrefix(got, "550 5.6.0") {
				t.Errorf("%s: %q, want 550 5.6.0", name, got)
			}
			// Whatever follows is read as commands of this session, not as the
			// smuggled message: a new transaction needs MAIL again.
			c.send("QUIT\r\n")
		}
		time.Sleep(500 * time.Millisecond)
		var n int
		for _, m := range e.rcv.Messages() {
			for _, to := range m.To {
				if strings.HasPrefix(to, "victim@") {
					t.Errorf("smuggled message delivered")
				}
			}
			n++
		}
		msgs, err := countMessages(e)
		if err != nil {
			t.Fatal(err)
		}
		if msgs != 1 {
			t.Errorf("%d messages stored, want 1 (the CRLF.CR variant's single message)", msgs)
		}
	})
}

func countMessages(e *env) (int, error) {
	ctx := context.Background()
	// Every committed submission has its audit entry in the same transaction.
	entries, err := e.srv.DB.AuditEntries(ctx, store.AuditFilter{TenantID: e.tenant, Action: "SMTP submissions", Limit: 1000})
	return len(entries), err
}

// A command pipelined behind STARTTLS is discarded, not run inside TLS
// (CVE-2011-0411); AUTH is neither offered nor accepted before TLS; and without AUTH
// nothing is relayed anywhere.
func TestStartTLSAndRelay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		c := dialRaw(t, e.sub, false, nil)
		if ehlo := c.cmd("EHLO client.example", "250"); strings.Contains(ehlo, "AUTH") {
			t.Errorf("AUTH offered before TLS: %q", ehlo)
		}
		c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00"+e.user+"\x00"+e.pass)), "523")
		c.send("STARTTLS\r\nMAIL FROM:<a@clinic.example>\r\n")
		c.expect("220")
		tc := tlsClient(t, c)
		// The first reply inside TLS must answer our EHLO, not the injected MAIL.
		tc.cmd("EHLO client.example", "250")
		// The session was reset by TLS: MAIL without AUTH is refused.
		tc.cmd("MAIL FROM:<a@clinic.example>", "530 5.7.0")
		tc.cmd("RCPT TO:<someone@foreign.example>", "5")

		// Relay attempts without AUTH in the forms nmap's smtp-open-relay tries.
		r := dialRaw(t, e.subs, true, nil)
		r.cmd("EHLO client.example", "250")
		for _, from := range []string{"<>", "<a@clinic.example>", "<relaytest@[127.0.0.1]>", "<a@foreign.example>"} {
			got := r.cmd("MAIL FROM:"+from, "5")
			if !strings.HasPrefix(got, "530") && !strings.HasPrefix(got, "553") && !strings.HasPrefix(got, "501") {
				t.Errorf("MAIL FROM:%s without AUTH: %q", from, got)
			}
		}
		for _, to := range []string{"<victim@foreign.example>", "<\"victim@foreign.example\">", "<victim%foreign.example@[127.0.0.1]>", "<foreign.example!victim>", "<@[127.0.0.1]:victim@foreign.example>"} {
			r.cmd("RCPT TO:"+to, "5")
		}
	})
}

func tlsClient(t *testing.T, c *raw) *raw {
	t.Helper()
	r := &raw{t: t, conn: c.conn, r: c.r}
	// Bytes the server sent before the handshake would sit in c.r; there must be none.
	if c.r.Buffered() > 0 {
		t.Fatalf("server wrote %d bytes after 220 before TLS", c.r.Buffered())
	}
	r.handshake()
	return r
}

// Repeated bad AUTH locks out the client address and the username; the lock lives in
// the database (every process reads it there), and the other listener refuses too.
func TestAuthLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		bad := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+e.user+"\x00wrong"))
		good := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+e.user+"\x00"+e.pass))
		c := dialRaw(t, e.subs, true, nil)
		c.cmd("EHLO client.example", "250")
		for range 5 {
			c.cmd(bad, "535 5.7.8")
		}
		c.cmd(good, "454 4.7.0")
		// The count is the store's: the lock is visible there to any process.
		locked, err := e.srv.DB.SMTPAuthLocked(context.Background(), time.Now(), lockKeys(e.user)...)
		if err != nil || !locked {
			t.Fatalf("lock not in the store: %v %v", locked, err)
		}
		c2 := dialRaw(t, e.sub, false, nil)
		c2.cmd("EHLO client.example", "250")
		c2.startTLS()
		c2.cmd("EHLO client.example", "250")
		c2.cmd(good, "454 4.7.0")
	})
}

func lockKeys(user string) [][]byte { return [][]byte{smtpd.FailureKey("user", user)} }
