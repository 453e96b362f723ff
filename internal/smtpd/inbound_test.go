package smtpd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// gateway is an env whose tenant protects hospital.example: its mailbox host is a
// receiving server with a certificate from the test CA, and the senders' domains are
// published in devnet DNS — lab.example signs with DKIM and passes SPF from loopback;
// bank.example publishes p=reject and allows only another address.
type gateway struct {
	*env
	mailbox *devnet.Receiver
	labKey  ed25519.PrivateKey
}

func newGateway(t *testing.T, dbURL string, dmarcAction string) *gateway {
	e := newEnv(t, dbURL, nil)
	cert, err := e.ca.Issue("mail.hospital.example")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "mail.hospital.example", TLSCert: &cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	e.dns.AddA("mail.hospital.example", net.IPv4(127, 0, 0, 1))
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	e.dns.AddTXT("sel._domainkey.lab.example", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	e.dns.AddTXT("lab.example", "v=spf1 ip4:127.0.0.1 -all")
	e.dns.AddTXT("_dmarc.lab.example", "v=DMARC1; p=reject")
	e.dns.AddTXT("bank.example", "v=spf1 ip4:192.0.2.1 -all")
	e.dns.AddTXT("_dmarc.bank.example", "v=DMARC1; p=reject")
	for _, d := range []string{"hospital.example", "plain.example", "dlp.example"} {
		if _, err := e.srv.Tenants.AddDomain(context.Background(), e.tenant, d, true); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.srv.Inbound.AddDomain(context.Background(), e.tenant, inbound.DomainOptions{Domain: "hospital.example",
		SmartHost: "mail.hospital.example:" + strconv.Itoa(mb.Port()), DMARC: dmarcAction})
	if err != nil {
		t.Fatal(err)
	}
	return &gateway{env: e, mailbox: mb, labKey: priv}
}

// send delivers one message to the inbound listener as a sending MTA would and returns
// the reply to the end of DATA.
func (g *gateway) send(from, to, msg string) string {
	g.t.Helper()
	c := dialRaw(g.t, g.inbound, false, nil)
	c.cmd("EHLO mx.sender.example", "250")
	c.cmd("MAIL FROM:<"+from+">", "250")
	c.cmd("RCPT TO:<"+to+">", "250")
	c.cmd("DATA", "354")
	c.send(msg + ".\r\n")
	return c.reply()
}

// signed is msg with a DKIM signature by lab.example.
func (g *gateway) signed(msg string) string {
	g.t.Helper()
	var b bytes.Buffer
	if err := dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{Domain: "lab.example", Selector: "sel", Signer: g.labKey}); err != nil {
		g.t.Fatal(err)
	}
	return b.String()
}

func (g *gateway) held(status string) []*inbound.Message {
	g.t.Helper()
	ms, err := g.srv.Inbound.List(context.Background(), g.tenant, status, "", 100)
	if err != nil {
		g.t.Fatal(err)
	}
	return ms
}

func (g *gateway) waitMailbox(n int) []devnet.Received {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := g.mailbox.WaitCount(ctx, n); err != nil {
		g.t.Fatalf("mailbox holds %d messages, want %d", g.mailbox.Count(), n)
	}
	return g.mailbox.Messages()
}

func TestInboundGateway(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		g := newGateway(t, dbURL, inbound.ActionQuarantine)
		ctx := context.Background()

		// A foreign domain is refused: no open relay. The bounce intake still answers.
		c := dialRaw(t, g.inbound, false, nil)
		c.cmd("EHLO mx.sender.example", "250")
		c.cmd("MAIL FROM:<a@lab.example>", "250")
		c.cmd("RCPT TO:<someone@elsewhere.example>", "550 5.7.1")
		c.cmd("RCPT TO:<bounces+rcp_x-000000000000@bounces.sealpost.test>", "550 5.1.1")

		// Legitimate, DKIM-signed mail is forwarded over verified TLS with our verdict; a
		// forged verdict claiming our name is removed, another server's is kept.
		legit := g.signed("From: Lab <results@lab.example>\r\nTo: dr@hospital.example\r\nSubject: Results\r\n" +
			"Message-ID: <1@lab.example>\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n\r\nThe results are ready.\r\n")
		legit = "Authentication-Results: sealpost.test; dmarc=pass header.from=bank.example\r\n" +
			"Authentication-Results: other.example; spf=pass\r\n" + legit
		if got := g.send("results@lab.example", "dr@hospital.example", legit); !strings.HasPrefix(got, "250") {
			t.Fatalf("legitimate mail: %q", got)
		}
		m := g.waitMailbox(1)[0]
		if m.TLS == nil {
			t.Fatal("forwarded without TLS")
		}
		if m.To[0] != "dr@hospital.example" || m.From != "results@lab.example" {
			t.Fatalf("envelope %s -> %v", m.From, m.To)
		}
		head := string(m.Data[:bytes.Index(m.Data, []byte("\r\n\r\n"))])
		if n := strings.Count(head, "Authentication-Results: sealpost.test;"); n != 1 {
			t.Fatalf("%d verdicts by us, want 1:\n%s", n, head)
		}
		for _, want := range []string{"spf=pass", "dkim=pass", "header.d=lab.example", "dmarc=pass", "header.from=lab.example", "arc=none", "Authentication-Results: other.example; spf=pass"} {
			if !strings.Contains(head, want) {
				t.Errorf("forwarded header lacks %q:\n%s", want, head)
			}
		}
		if strings.Contains(head, "header.from=bank.example") {
			t.Error("the forged verdict was kept")
		}

		// Forged mail from a p=reject domain is held (this domain's policy: quarantine).
		forged := "From: Bank <alerts@bank.example>\r\nTo: dr@hospital.example\r\nSubject: Verify your account\r\n\r\nClick here.\r\n"
		if got := g.send("alerts@bank.example", "dr@hospital.example", forged); !strings.HasPrefix(got, "250") {
			t.Fatalf("forged mail: %q", got)
		}
		// An executable and a macro document, from an authenticated sender, are held too.
		for _, att := range []struct{ name, ct, body string }{
			{"invoice.exe", "application/octet-stream", "MZ\x90\x00this program cannot be run in DOS mode"},
			{"report.docm", "application/vnd.ms-word.document.macroEnabled.12", "not really a document"},
		} {
			msg := g.signed("From: results@lab.example\r\nTo: dr@hospital.example\r\nSubject: Attached\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
				"--b\r\nContent-Type: " + att.ct + "\r\nContent-Disposition: attachment; filename=\"" + att.name + "\"\r\n" +
				"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte(att.body)) + "\r\n--b--\r\n")
			if got := g.send("results@lab.example", "dr@hospital.example", msg); !strings.HasPrefix(got, "250") {
				t.Fatalf("%s: %q", att.name, got)
			}
		}
		held := g.held(store.InboundQuarantined)
		reasons := map[string]string{}
		for _, h := range held {
			reasons[h.Envelope.Subject] = strings.Join(h.Reasons, " ")
		}
		want := map[string]string{"Verify your account": inbound.ReasonDMARC, "Attached": ""}
		if len(held) != 3 || reasons["Verify your account"] != want["Verify your account"] {
			t.Fatalf("held %v, want the forged mail (dmarc_fail) and two attachments", reasons)
		}
		var exe, docm string
		for _, h := range held {
			switch {
			case slices.Equal(h.Reasons, []string{inbound.ReasonExecutable}):
				exe = h.ID
			case slices.Equal(h.Reasons, []string{inbound.ReasonMacro}):
				docm = h.ID
			case h.Envelope.Subject == "Verify your account":
				if h.Verdict.DMARC != "fail" || h.Verdict.SPF != "fail" || h.Verdict.Policy != "reject" {
					t.Errorf("forged verdict %+v", h.Verdict)
				}
			}
		}
		if exe == "" || docm == "" {
			t.Fatalf("attachment reasons %v", reasons)
		}
		time.Sleep(300 * time.Millisecond)
		if n := g.mailbox.Count(); n != 1 {
			t.Fatalf("mailbox holds %d, want only the legitimate message", n)
		}

		// Release forwards; delete purges; neither can be done twice.
		if err := g.srv.Inbound.Release(ctx, g.tenant, docm, "test", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if err := g.srv.Inbound.Release(ctx, g.tenant, docm, "test", "127.0.0.1"); err != inbound.ErrNotHeld {
			t.Fatalf("second release: %v", err)
		}
		g.waitMailbox(2)
		if err := g.srv.Inbound.Delete(ctx, g.tenant, exe, "test", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		row, err := g.srv.DB.InboundMessage(ctx, g.tenant, exe)
		if err != nil || row.Status != store.InboundDeleted || row.Content != nil {
			t.Fatalf("deleted message: %v %+v", err, row)
		}
		// Another tenant cannot see or release this tenant's mail.
		other, err := g.srv.Tenants.Create(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.srv.Inbound.Get(ctx, other.ID, docm); err != store.ErrNotFound {
			t.Fatalf("other tenant reads: %v", err)
		}

		// Every step is on the timeline (and so in webhooks).
		deadline := time.Now().Add(10 * time.Second)
		for {
			evs, err := g.srv.DB.Events(ctx, store.EventFilter{TenantID: g.tenant, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, ev := range evs {
				count[ev.Type]++
			}
			if count["inbound.received"] == 4 && count["inbound.quarantined"] == 3 && count["inbound.forwarded"] == 2 &&
				count["inbound.released"] == 1 && count["inbound.deleted"] == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("events %v", count)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// Under a reject policy, mail failing DMARC of a p=reject domain gets 550 5.7.1 at
// the end of DATA and nothing is stored but the rejection's event; mail whose mailbox
// host offers no TLS is never sent in the clear.
func TestInboundRejectAndNoPlaintext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		g := newGateway(t, dbURL, inbound.ActionReject)
		ctx := context.Background()
		forged := "From: alerts@bank.example\r\nTo: dr@hospital.example\r\nSubject: Verify\r\n\r\nClick.\r\n"
		if got := g.send("alerts@bank.example", "dr@hospital.example", forged); !strings.HasPrefix(got, "550 5.7.1") {
			t.Fatalf("forged mail under reject: %q", got)
		}
		if ms := g.held(""); len(ms) != 0 {
			t.Fatalf("%d messages stored, want none", len(ms))
		}
		evs, err := g.srv.DB.Events(ctx, store.EventFilter{TenantID: g.tenant, Types: []string{"inbound.rejected"}})
		if err != nil || len(evs) != 1 {
			t.Fatalf("rejected events %d, %v", len(evs), err)
		}

		plain, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "mail.plain.example"})
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		g.dns.AddA("mail.plain.example", net.IPv4(127, 0, 0, 1))
		if _, err := g.srv.Inbound.AddDomain(ctx, g.tenant, inbound.DomainOptions{Domain: "plain.example",
			SmartHost: "mail.plain.example:" + strconv.Itoa(plain.Port())}); err != nil {
			t.Fatal(err)
		}
		msg := g.signed("From: results@lab.example\r\nTo: dr@plain.example\r\nSubject: Results\r\n\r\nReady.\r\n")
		if got := g.send("results@lab.example", "dr@plain.example", msg); !strings.HasPrefix(got, "250") {
			t.Fatalf("legitimate mail: %q", got)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			ms := g.held(store.InboundQueued)
			if len(ms) == 1 && ms[0].Attempts >= 1 && strings.Contains(ms[0].LastError, "TLS") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("queued %+v", ms)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n := plain.Count(); n != 0 {
			t.Fatalf("%d messages sent in the clear", n)
		}

		// Inbound DLP, where a domain asks for it, holds mail carrying PHI.
		if _, err := g.srv.Inbound.AddDomain(ctx, g.tenant, inbound.DomainOptions{Domain: "dlp.example",
			SmartHost: "mail.hospital.example:" + strconv.Itoa(g.mailbox.Port()), DLP: inbound.ActionQuarantine}); err != nil {
			t.Fatal(err)
		}
		phi := g.signed("From: results@lab.example\r\nTo: dr@dlp.example\r\nSubject: Patient\r\n\r\nPatient SSN: 512-44-6789. Referring provider NPI 1234567893.\r\n")
		if got := g.send("results@lab.example", "dr@dlp.example", phi); !strings.HasPrefix(got, "250") {
			t.Fatalf("mail with PHI: %q", got)
		}
		held := g.held(store.InboundQuarantined)
		if len(held) != 1 || !slices.Equal(held[0].Reasons, []string{inbound.ReasonDLP}) {
			t.Fatalf("held %+v, want the PHI message held for dlp", held)
		}
	})
}

// Registration reports every bad field at once.
func TestInboundDomainValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		g := newGateway(t, dbURL, "")
		_, err := g.srv.Inbound.AddDomain(context.Background(), g.tenant, inbound.DomainOptions{Domain: "nodot", SmartHost: "host", DMARC: "drop"})
		for _, f := range []string{"domain", "smart_host", "dmarc_action"} {
			if err == nil || !strings.Contains(err.Error(), f+":") {
				t.Errorf("error %v does not name %s", err, f)
			}
		}
		_, err = g.srv.Inbound.AddDomain(context.Background(), g.tenant, inbound.DomainOptions{Domain: "hospital.example", SmartHost: "h.example:25"})
		if err == nil || !strings.Contains(err.Error(), "already protected") {
			t.Errorf("duplicate domain: %v", err)
		}
		// A domain the tenant has not verified cannot be claimed.
		_, err = g.srv.Inbound.AddDomain(context.Background(), g.tenant, inbound.DomainOptions{Domain: "gmail.example", SmartHost: "h.example:25"})
		if err == nil || !strings.Contains(err.Error(), "verified domain") {
			t.Errorf("unverified domain: %v", err)
		}
	})
}
