package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

func TestEndToEndDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		attachment := make([]byte, 70000)
		rand.Read(attachment)
		status, res := e.send(e.key, map[string]any{
			"from":    "Clinic <results@clinic.example>",
			"to":      []string{"Pat Doe <pat@patient.example>"},
			"subject": "Your results — ready",
			"text":    "Dear Pat,\nyour results are ready.\n",
			"html":    "<p>Dear Pat,<br>your results are ready.</p>",
			"attachments": []map[string]any{{
				"filename": "results.pdf", "content_type": "application/pdf",
				"content": base64.StdEncoding.EncodeToString(attachment),
			}},
			"headers":  []map[string]string{{"name": "X-Clinic-Ref", "value": "A-17"}},
			"tags":     []string{"results"},
			"metadata": map[string]string{"order": "17"},
		})
		if status != 202 {
			t.Fatalf("send: %d %v", status, res)
		}
		id := res["id"].(string)
		rcpts := res["recipients"].([]any)
		if len(rcpts) != 1 || rcpts[0].(map[string]any)["id"] == "" {
			t.Fatalf("recipients: %v", rcpts)
		}
		m := e.waitFinal(id)
		r0 := m["recipients"].([]any)[0].(map[string]any)
		if r0["status"] != "delivered" {
			t.Fatalf("status: %v", r0)
		}
		got := e.rcv.Messages()
		if len(got) != 1 {
			t.Fatalf("receiver got %d messages", len(got))
		}
		raw := got[0].Data
		if got[0].TLS == nil {
			t.Fatal("delivered without TLS")
		}
		if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatal("bare LF in delivered message")
		}
		// The message as received parses back to exactly what was sent.
		mr, err := mail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		subj, _ := mr.Header.Subject()
		from, _ := mr.Header.AddressList("From")
		if subj != "Your results — ready" || len(from) != 1 || from[0].Address != "results@clinic.example" || mr.Header.Get("X-Clinic-Ref") != "A-17" {
			t.Fatalf("headers: %q %v %q", subj, from, mr.Header.Get("X-Clinic-Ref"))
		}
		if !strings.Contains(mr.Header.Get("Received"), "by sealpost.test (Sealpost) with HTTP") {
			t.Fatalf("received header: %q", mr.Header.Get("Received"))
		}
		var sawText, sawAttachment bool
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(p.Body)
			switch h := p.Header.(type) {
			case *mail.AttachmentHeader:
				name, _ := h.Filename()
				if name != "results.pdf" || !bytes.Equal(body, attachment) {
					t.Fatalf("attachment %q differs (%d bytes)", name, len(body))
				}
				sawAttachment = true
			case *mail.InlineHeader:
				ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
				if ct == "text/plain" {
					sawText = string(body) == "Dear Pat,\r\nyour results are ready.\r\n"
				}
			}
		}
		if !sawText || !sawAttachment {
			t.Fatalf("text ok %v, attachment ok %v", sawText, sawAttachment)
		}
		dkimVerify(t, raw, e.dkimTXT)

		evs := e.events("message=" + id)
		var types []string
		var delivered map[string]any
		for _, ev := range evs {
			types = append(types, ev["type"].(string))
			if ev["type"] == "delivered" {
				delivered = ev["data"].(map[string]any)
			}
		}
		if strings.Join(types, ",") != "accepted,queued,delivered,secured" {
			t.Fatalf("timeline %v", types)
		}
		tlsInfo := delivered["tls"].(map[string]any)
		if tlsInfo["version"] != "TLSv1.3" || tlsInfo["verified"] != true {
			t.Fatalf("delivered event TLS: %v", tlsInfo)
		}
		// Filter by recipient address works without the address being stored in clear.
		if evs := e.events("recipient=pat@patient.example&type=delivered"); len(evs) != 1 {
			t.Fatalf("recipient filter: %v", evs)
		}
		if evs := e.events("recipient=other@patient.example"); len(evs) != 0 {
			t.Fatalf("recipient filter leaks: %v", evs)
		}
	})
}

func TestTemporaryFailuresRetryOnSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{
			retry: []string{"400ms", "800ms"},
			respond: func(rcpt string, attempt int) *smtp.SMTPError {
				if attempt <= 2 {
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
				}
				return nil
			},
		})
		start := time.Now()
		_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "pat@patient.example", "subject": "s", "text": "t"})
		id := res["id"].(string)
		m := e.waitFinal(id)
		elapsed := time.Since(start)
		if st := m["recipients"].([]any)[0].(map[string]any)["status"]; st != "delivered" {
			t.Fatalf("status %v", st)
		}
		if n := e.rcv.Count(); n != 1 {
			t.Fatalf("delivered %d times", n)
		}
		if elapsed < 1200*time.Millisecond {
			t.Fatalf("retries came early: all done in %v, schedule needs 1.2s", elapsed)
		}
		var types []string
		for _, ev := range e.events("message=" + id) {
			types = append(types, ev["type"].(string))
			if ev["type"] == "deferred" {
				d := ev["data"].(map[string]any)
				if !strings.HasPrefix(d["smtp_reply"].(string), "451 4.3.0") || d["next_attempt_at"] == nil {
					t.Fatalf("deferred event: %v", d)
				}
			}
		}
		if strings.Join(types, ",") != "accepted,queued,deferred,deferred,delivered,secured" {
			t.Fatalf("timeline %v", types)
		}
	})
}

func TestPermanentFailureBouncesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{respond: func(string, int) *smtp.SMTPError {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}})
		_, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": "gone@patient.example", "subject": "s", "text": "t"})
		id := res["id"].(string)
		m := e.waitFinal(id)
		if st := m["recipients"].([]any)[0].(map[string]any)["status"]; st != "bounced" {
			t.Fatalf("status %v", st)
		}
		time.Sleep(800 * time.Millisecond) // past the first retry delay: no second attempt
		if n := e.rcv.Attempts("gone@patient.example"); n != 1 {
			t.Fatalf("attempts after 5xx: %d", n)
		}
		bounces := e.events("message=" + id + "&type=bounced")
		if len(bounces) != 1 || !strings.HasPrefix(bounces[0]["data"].(map[string]any)["smtp_reply"].(string), "550 5.1.1") {
			t.Fatalf("bounce events: %v", bounces)
		}
	})
}

func TestExpiryEndsRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{retry: []string{"300ms"}, expire: "1s",
			respond: func(string, int) *smtp.SMTPError {
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "busy"}
			}})
		_, res := e.send(e.key, simple("p@patient.example"))
		id := res["id"].(string)
		m := e.waitFinal(id)
		if st := m["recipients"].([]any)[0].(map[string]any)["status"]; st != "expired" {
			t.Fatalf("status %v", st)
		}
		if n := len(e.events("message=" + id + "&type=expired")); n != 1 {
			t.Fatalf("expired events: %d", n)
		}
		var hist string
		e.srv.DB.SQL().QueryRow("SELECT outcome FROM delivery_history WHERE message_id = $1", id).Scan(&hist)
		if hist != "expired" {
			t.Fatalf("job not retired to history: %q", hist)
		}
	})
}

func TestSandboxNeverDelivers(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits for retries
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{retry: []string{"200ms"}, expire: "1s"})
		secret, _, err := e.srv.Tenants.CreateKey(t.Context(), e.tenant, tenant.KeyOptions{Scopes: []string{"send", "read"}, Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"pat@patient.example":       "accepted,queued,delivered,secured",
			"delivered@patient.example": "accepted,queued,delivered,secured",
			"bounce@patient.example":    "accepted,queued,bounced",
			"defer@patient.example":     "accepted,queued,deferred,delivered,secured",
			"expire@patient.example":    "accepted,queued,deferred,deferred,deferred,deferred,expired",
		}
		for addr, timeline := range want {
			_, res := e.send(secret, simple(addr))
			id := res["id"].(string)
			m := e.waitFinal(id)
			if m["sandbox"] != true {
				t.Fatalf("not marked sandbox: %v", m)
			}
			var types []string
			for _, ev := range e.events("message=" + id) {
				types = append(types, ev["type"].(string))
				if ev["type"] != "accepted" && ev["type"] != "queued" && ev["data"].(map[string]any)["sandbox"] != true {
					t.Errorf("%s: event without sandbox marker: %v", addr, ev)
				}
			}
			if got := strings.Join(types, ","); got != timeline {
				// expire@ may fit one more or one fewer attempt into its second.
				if !(addr == "expire@patient.example" && strings.HasSuffix(got, "deferred,expired")) {
					t.Errorf("%s: timeline %s, want %s", addr, got, timeline)
				}
			}
		}
		if n := e.rcv.Count(); n != 0 {
			t.Fatalf("sandbox messages reached the receiver %d times", n)
		}
	})
}
