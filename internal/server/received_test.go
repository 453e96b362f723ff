package server_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	rcvd "github.com/sealpost/sealpost/internal/mailcheck/received"
	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// ourHop finds the hop our server recorded in the newest message r received for rcpt
// whose text contains marker.
func ourHop(t *testing.T, r *devnet.Receiver, rcpt, marker string) rcvd.Hop {
	ours, _ := hops(t, r, rcpt, marker)
	return ours
}

// hops returns the hop our server recorded and the one the receiver recorded, read
// from the message as the receiver's mailbox holds it.
func hops(t *testing.T, r *devnet.Receiver, rcpt, marker string) (ours, theirs rcvd.Hop) {
	t.Helper()
	msgs := r.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if len(m.To) == 0 || !strings.EqualFold(m.To[0], rcpt) {
			continue
		}
		if v, err := view.Parse(m.Data, view.Limits{}); err != nil || !strings.Contains(v.Text, marker) {
			continue
		}
		rep, err := rcvd.Analyze(bytes.NewReader(m.Delivered()))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(rep.Hops); n < 2 || rep.Hops[0].By != "sealpost.test" {
			t.Fatalf("want our hop first and the receiver's last in:\n%s", m.Delivered())
		}
		return rep.Hops[0], rep.Hops[len(rep.Hops)-1]
	}
	t.Fatalf("no message to %s containing %q", rcpt, marker)
	return rcvd.Hop{}, rcvd.Hop{}
}

// TestReceivedSaysHowPortalRequestsCame: a code email and a reply asked for over plain
// HTTP say "with HTTP" and record no TLS; over HTTPS they say "with HTTPS" and record
// the version and cipher the request actually used.
func TestReceivedSaysHowPortalRequestsCame(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		pe := newPortalEnv(t, dbURL, nil)
		const rcpt = "pat@plain.example"
		_, link := pe.sendPortal(rcpt, portalMessage(rcpt, nil))
		v := newVisitor(t)
		pe.signIn(v, link, rcpt)
		code := ourHop(t, pe.plain, rcpt, "access code is")
		if code.With != "HTTP" || code.TLS != nil || strings.Contains(code.Raw, "HTTPS") {
			t.Errorf("code email over HTTP recorded %q with TLS %+v: %s", code.With, code.TLS, code.Raw)
		}
		m := v.get(link + "/m")
		if p := v.postFiles(link+"/reply", map[string]string{"csrf": csrfOf(t, m.body), "body": "Plain reply"}, nil); p.status != 303 {
			t.Fatalf("reply: %d %s", p.status, p.body)
		}
		pe.waitMail(pe.clinic, "lab@clinic.example", "Plain reply", 0)
		reply, mx := hops(t, pe.clinic, "lab@clinic.example", "Plain reply")
		if reply.With != "HTTP" || reply.TLS != nil {
			t.Errorf("reply over HTTP recorded %q with TLS %+v: %s", reply.With, reply.TLS, reply.Raw)
		}
		// The receiving servers record their own hop: STARTTLS at clinic.example's
		// MX, none at plain.example's, which offers no TLS.
		if mx.By != "mx.clinic.example" || mx.With != "ESMTPS" || mx.Class != rcvd.Encrypted || mx.TLS.Version != "TLSv1.3" {
			t.Errorf("clinic MX hop %+v: %s", mx, mx.Raw)
		}
		if _, mx := hops(t, pe.plain, rcpt, "access code is"); mx.By != "mx.plain.example" || mx.With != "ESMTP" || mx.TLS != nil {
			t.Errorf("plain MX hop %+v: %s", mx, mx.Raw)
		}
	})
}

func TestReceivedRecordsTheTLSOfHTTPSRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		var ca *devnet.CA
		var base string
		pe := newPortalEnv(t, dbURL, func(cfg *config.Config) {
			// The API itself serves HTTPS on a certificate from a throw-away CA.
			var err error
			if ca, err = devnet.NewCA(); err != nil {
				t.Fatal(err)
			}
			cert, err := ca.Issue("127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			cfg.API.TLSCert, cfg.API.TLSKey = filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key")
			writePEM(t, cfg.API.TLSCert, "CERTIFICATE", cert.Certificate[0])
			writeKey(t, cfg.API.TLSKey, cert)
			base = strings.Replace(cfg.Secure.PortalURL, "http://", "https://", 1)
			cfg.Secure.PortalURL = base
		})
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

		// A send over HTTPS records the session's version and cipher.
		const rcpt = "pat@plain.example"
		body, _ := json.Marshal(portalMessage(rcpt, nil))
		req, _ := http.NewRequest("POST", base+"/v1/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pe.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var sent struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&sent)
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("send over HTTPS: %d", resp.StatusCode)
		}
		// The portal copy is committed with the notice's outcome: wait for it.
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			req, _ := http.NewRequest("GET", base+"/v1/messages/"+sent.ID, nil)
			req.Header.Set("Authorization", "Bearer "+pe.key)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var st struct{ Recipients []struct{ Status string } }
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if len(st.Recipients) == 1 && st.Recipients[0].Status == "delivered" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("notice not delivered in time: %+v", st)
			}
		}
		notice := pe.waitMail(pe.plain, rcpt, "/p/", 0)
		link := regexp.MustCompile(`https://[^\s"<>]+/p/[A-Za-z0-9_-]{20,}`).FindString(notice)
		if link == "" {
			t.Fatalf("no https portal link in the notice:\n%s", notice)
		}

		v := newVisitor(t)
		v.client = client
		pe.signIn(v, link, rcpt)
		want := regexp.MustCompile(`with HTTPS id \S+\s+\(using TLSv1\.3 with cipher TLS_[A-Z0-9_]+\);`)
		code := ourHop(t, pe.plain, rcpt, "access code is")
		if code.With != "HTTPS" || code.TLS == nil || code.TLS.Version != "TLSv1.3" || !strings.HasPrefix(code.TLS.Cipher, "TLS_") ||
			code.Class != rcvd.Encrypted || !want.MatchString(code.Raw) {
			t.Errorf("code email over HTTPS recorded %q with TLS %+v (%s): %s", code.With, code.TLS, code.Class, code.Raw)
		}
		m := v.get(link + "/m")
		if p := v.postFiles(link+"/reply", map[string]string{"csrf": csrfOf(t, m.body), "body": "Secure reply"}, nil); p.status != 303 {
			t.Fatalf("reply: %d %s", p.status, p.body)
		}
		pe.waitMail(pe.clinic, "lab@clinic.example", "Secure reply", 0)
		reply := ourHop(t, pe.clinic, "lab@clinic.example", "Secure reply")
		if reply.With != "HTTPS" || reply.TLS == nil || reply.TLS.Version != "TLSv1.3" || !want.MatchString(reply.Raw) {
			t.Errorf("reply over HTTPS recorded %q with TLS %+v: %s", reply.With, reply.TLS, reply.Raw)
		}
	})
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, cert tls.Certificate) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
}
