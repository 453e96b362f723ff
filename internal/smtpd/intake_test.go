package smtpd_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// A DSN in RFC 3464's format (the shape Postfix and Exchange send) and an ARF complaint
// in RFC 5965's, sent days later to a delivery's return path, become the bounced and
// complained events of the right recipient. A made-up bounce address is refused.
func TestBounceAndComplaintIntake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		// Two recipients, so "the right recipient" means something.
		c := dialRaw(t, e.subs, true, nil)
		c.cmd("EHLO client.example", "250")
		c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00"+e.user+"\x00"+e.pass)), "235")
		c.cmd("MAIL FROM:<results@clinic.example>", "250")
		c.cmd("RCPT TO:<ann@"+patientDomain+">", "250")
		c.cmd("RCPT TO:<bob@"+patientDomain+">", "250")
		c.cmd("DATA", "354")
		c.send("From: results@clinic.example\r\nTo: ann@" + patientDomain + ", bob@" + patientDomain + "\r\nSubject: Results\r\n\r\nReady.\r\n.\r\n")
		c.expect("250")
		msgs := e.waitDelivered(2)
		returnPath := map[string]string{}
		for _, m := range msgs {
			if !strings.HasPrefix(m.From, "bounces+rcp_") || !strings.HasSuffix(m.From, "@bounces.sealpost.test") {
				t.Fatalf("return path %q is not a per-recipient bounce address", m.From)
			}
			returnPath[m.To[0]] = m.From
		}
		if returnPath["ann@"+patientDomain] == returnPath["bob@"+patientDomain] {
			t.Fatal("one return path for two recipients")
		}

		dsn := "From: MAILER-DAEMON@mx." + patientDomain + "\r\nTo: " + returnPath["bob@"+patientDomain] + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
			"--b1\r\nContent-Type: text/plain\r\n\r\nThe mailbox is gone.\r\n" +
			"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx." + patientDomain + "\r\nArrival-Date: Thu, 3 Dec 2026 10:00:00 +0000\r\n\r\n" +
			"Final-Recipient: rfc822; bob@" + patientDomain + "\r\nOriginal-Recipient: rfc822;bob@" + patientDomain + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
			"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n" +
			"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Results\r\n\r\n--b1--\r\n"
		arf := "From: fbl@isp.example\r\nTo: " + returnPath["ann@"+patientDomain] + "\r\nSubject: Abuse report\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b2\"\r\n\r\n" +
			"--b2\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n" +
			"--b2\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n\r\n" +
			"--b2\r\nContent-Type: message/rfc822\r\n\r\nFrom: results@clinic.example\r\nSubject: Results\r\n\r\nReady.\r\n--b2--\r\n"
		for _, m := range []struct{ to, body string }{{returnPath["bob@"+patientDomain], dsn}, {returnPath["ann@"+patientDomain], arf}} {
			in := dialRaw(t, e.inbound, false, nil)
			in.cmd("EHLO mx."+patientDomain, "250")
			in.cmd("MAIL FROM:<>", "250")
			in.cmd("RCPT TO:<"+m.to+">", "250")
			in.cmd("DATA", "354")
			in.send(m.body + ".\r\n")
			in.expect("250")
		}
		// Forged: a recipient id with a wrong tag, and an address that is not ours.
		in := dialRaw(t, e.inbound, false, nil)
		in.cmd("EHLO mx.example", "250")
		in.cmd("MAIL FROM:<>", "250")
		forged := returnPath["ann@"+patientDomain]
		at := strings.LastIndexByte(forged, '-')
		in.cmd("RCPT TO:<"+forged[:at]+"-000000000000@bounces.sealpost.test>", "550 5.1.1")
		in.cmd("RCPT TO:<someone@clinic.example>", "550 5.7.1") // not a protected domain: no relay

		ctx := context.Background()
		deadline := time.Now().Add(5 * time.Second)
		for {
			evs, err := e.srv.DB.Events(ctx, store.EventFilter{TenantID: e.tenant, Types: []string{"bounced", "complained"}, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, ev := range evs {
				r, err := e.srv.DB.Recipient(ctx, ev.RecipientID)
				if err != nil {
					t.Fatal(err)
				}
				keys, _ := e.srv.Tenants.Keys(ctx, e.tenant)
				addr, _ := keys.Data.OpenString(r.Address, "recipient/"+r.ID)
				got[ev.Type] = addr
			}
			if got["bounced"] == "bob@"+patientDomain && got["complained"] == "ann@"+patientDomain && len(evs) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("events %v, want bounced for bob and complained for ann", got)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The hard bounce stops all mail to bob; the complaint stops marketing to ann,
		// never her transactional mail.
		for _, c := range []struct{ addr, scope, want string }{
			{"bob@" + patientDomain, "transactional", "hard_bounce"}, {"ann@" + patientDomain, "marketing", "complaint"},
			{"ann@" + patientDomain, "transactional", ""}, {"bob@" + patientDomain, "marketing", ""},
		} {
			got, err := e.srv.Marketing.IsSuppressed(ctx, e.tenant, c.addr, c.scope)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s suppressed for %s: %q, want %q", c.addr, c.scope, got, c.want)
			}
		}
	})
}
