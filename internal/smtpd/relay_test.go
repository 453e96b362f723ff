package smtpd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// publishKey makes an Ed25519 DKIM key for domain under selector and publishes it.
func (e *env) publishKey(domain, selector string) ed25519.PrivateKey {
	e.t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	e.dns.AddTXT(selector+"._domainkey."+domain, "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	return priv
}

func signed(t *testing.T, domain, selector string, key ed25519.PrivateKey, from, to string) string {
	t.Helper()
	msg := "From: " + from + "\r\nTo: " + to + "\r\nSubject: Relayed\r\nMessage-ID: <r1@" + domain + ">\r\n\r\nRelayed through the gateway.\r\n"
	var out bytes.Buffer
	if err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: selector, Signer: key,
		HeaderKeys: []string{"From", "To", "Subject", "Message-ID"}}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// relaySend drives one relayed message over STARTTLS and returns the reply to DATA (or
// to MAIL, when MAIL is refused).
func (e *env) relaySend(t *testing.T, cert *tls.Certificate, from, to, body string) string {
	t.Helper()
	c := dialRaw(t, e.relay, false, nil)
	c.cmd("EHLO gateway.example", "250")
	c.cmd("STARTTLS", "220")
	cfg := &tls.Config{InsecureSkipVerify: true} // #nosec G402 -- test client
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.r = tc, newReader(tc)
	if ehlo := c.cmd("EHLO gateway.example", "250"); strings.Contains(ehlo, "AUTH") {
		t.Errorf("relay offers AUTH: %q", ehlo)
	}
	c.send("MAIL FROM:<" + from + ">\r\n")
	if got := c.reply(); !strings.HasPrefix(got, "250") {
		return got
	}
	c.cmd("RCPT TO:<"+to+">", "250")
	c.cmd("DATA", "354")
	c.send(body + ".\r\n")
	return c.reply()
}

// A tenant's own mail servers relay through Sealpost only with a proof only that tenant
// can give: Google-like relay mail claiming another tenant's domain, signed by a
// selector nobody registered, or from a domain no tenant relays for, is refused.
func TestRelayProof(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		ctx := context.Background()
		// The clinic registers the selector its mail provider signs with.
		if _, err := e.srv.Tenants.AddRelayProof(ctx, e.tenant, "clinic.example", tenant.RelayDKIM, "google"); err != nil {
			t.Fatal(err)
		}
		google := e.publishKey("clinic.example", "google")
		other := e.publishKey("clinic.example", "other")
		// A second tenant, relaying for its own domain by a pinned certificate.
		t2, err := e.srv.Tenants.Create(ctx, "lab")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Tenants.AddDomain(ctx, t2.ID, "lab.example", true); err != nil {
			t.Fatal(err)
		}
		lk, err := e.srv.Tenants.GenerateDKIM(ctx, t2.ID, "lab.example", "s1", "ed25519")
		if err != nil {
			t.Fatal(err)
		}
		e.dns.AddTXT(lk.DNSName, lk.DNSValue)
		labKey := e.publishKey("lab.example", "google")
		clientCert, err := devnet.SelfSigned("relay.lab.example")
		if err != nil {
			t.Fatal(err)
		}
		pin := sha256.Sum256(clientCert.Certificate[0])
		if _, err := e.srv.Tenants.AddRelayProof(ctx, t2.ID, "lab.example", tenant.RelayCert, hex.EncodeToString(pin[:])); err != nil {
			t.Fatal(err)
		}
		to := "pat@" + patientDomain

		cases := []struct {
			name string
			cert *tls.Certificate
			from string
			body string
			want string
		}{
			{"registered selector", nil, "staff@clinic.example", signed(t, "clinic.example", "google", google, "staff@clinic.example", to), "250"},
			{"unregistered selector", nil, "staff@clinic.example", signed(t, "clinic.example", "other", other, "staff@clinic.example", to), "550 5.7.1"},
			{"unsigned", nil, "staff@clinic.example", "From: staff@clinic.example\r\nTo: " + to + "\r\nSubject: x\r\n\r\nx\r\n", "550 5.7.1"},
			// Another Google customer's mail arrives from the same gateway, signed by
			// its own domain: it claims the lab's domain, which has no DKIM proof.
			{"other tenant's domain, its own valid signature", nil, "x@lab.example", signed(t, "lab.example", "google", labKey, "x@lab.example", to), "550 5.7.1"},
			// Header From of the clinic, envelope of the lab: the proof must be the
			// header domain's.
			{"clinic signature, lab envelope", nil, "x@lab.example", signed(t, "clinic.example", "google", google, "staff@clinic.example", to), "550 5.7.1"},
			{"domain no tenant relays for", nil, "x@stranger.example", signed(t, "clinic.example", "google", google, "x@stranger.example", to), "550 5.7.1"},
			{"pinned certificate", &clientCert, "x@lab.example", "From: x@lab.example\r\nTo: " + to + "\r\nSubject: y\r\n\r\nby certificate\r\n", "250"},
		}
		accepted := 0
		for _, c := range cases {
			got := e.relaySend(t, c.cert, c.from, to, c.body)
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("%s: %q, want %s", c.name, got, c.want)
			}
			if strings.HasPrefix(got, "250") {
				accepted++
			}
		}
		msgs := e.waitDelivered(accepted)
		for _, m := range msgs {
			if !strings.Contains(string(m.Data), "DKIM-Signature:") {
				t.Errorf("relayed message delivered without our signature:\n%.600s", m.Data)
			}
		}
		// Relayed mail is archived like every accepted message.
		for _, tn := range []string{e.tenant, t2.ID} {
			if missing, err := e.srv.DB.MessagesNotArchived(ctx, tn); err != nil || len(missing) > 0 {
				t.Errorf("relayed messages not archived: %v %v", missing, err)
			}
		}
	})
}
