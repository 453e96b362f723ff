package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/client"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

const (
	senderDomain  = "clinic.example"
	patientDomain = "patient.example"
)

// startServer runs a real Sealpost on loopback, delivering to a devnet SMTP receiver
// found through a devnet DNS server, with one tenant owning a verified sender domain.
// It returns the API base URL, an admin key and the receiver.
func startServer(t *testing.T) (string, string, *devnet.Receiver) {
	t.Helper()
	ca, err := devnet.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("mx." + patientDomain)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := devnet.StartReceiver(devnet.ReceiverOptions{Hostname: "mx." + patientDomain, TLSCert: &cert})
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

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = storetest.SQLiteURL(t)
	cfg.Hostname = "sealpost.test"
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Delivery.Port = rcv.Port()
	cfg.Delivery.DNSServer = dns.Addr()
	cfg.Delivery.Retry = []string{"300ms", "600ms"}
	cfg.Delivery.DrainTimeout = "5s"
	cfg.MasterKeyFile = cfg.DataDir + "/master.key"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(seal.GenerateMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, &cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keyring: ring, RootCAs: ca.Pool(), Listener: ln})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server run: %v", err)
		}
	})

	tn, err := srv.Tenants.Create(ctx, "clinic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Tenants.AddDomain(ctx, tn.ID, senderDomain, true); err != nil {
		t.Fatal(err)
	}
	k, err := srv.Tenants.GenerateDKIM(ctx, tn.ID, senderDomain, "s1", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	dns.AddTXT(k.DNSName, k.DNSValue)
	secret, _, err := srv.Tenants.CreateKey(ctx, tn.ID, tenant.KeyOptions{Name: "test", Scopes: []string{tenant.ScopeAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + ln.Addr().String(), secret, rcv
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func asError(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *client.Error, got %T %v", err, err)
	}
	return e
}

func TestClientAgainstServer(t *testing.T) {
	base, key, rcv := startServer(t)
	ctx := testContext(t)
	c := client.New(base+"/", key, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))

	pdf := []byte("%PDF-1.4 not really\x00\xff binary")
	msg := &client.Message{
		From:        "Clinic <noreply@" + senderDomain + ">",
		To:          []string{"pat@" + patientDomain},
		Subject:     "Your results",
		Text:        "See the attachment.",
		Attachments: []client.Attachment{{Filename: "results.pdf", ContentType: "application/pdf", Content: pdf}},
		Headers:     []client.Header{{Name: "X-Clinic-Ref", Value: "r-17"}},
		Tags:        []string{"results"},
		Metadata:    map[string]string{"order": "42"},
	}

	var id string
	t.Run("send with idempotency key", func(t *testing.T) {
		r1, err := c.Send(ctx, msg, client.WithIdempotencyKey("order-42"))
		if err != nil {
			t.Fatal(err)
		}
		if r1.ID == "" || r1.Status != "accepted" || len(r1.Recipients) != 1 || r1.Recipients[0].Email != "pat@"+patientDomain || r1.Recipients[0].Type != "to" {
			t.Fatalf("unexpected result %+v", r1)
		}
		r2, err := c.Send(ctx, msg, client.WithIdempotencyKey("order-42"))
		if err != nil {
			t.Fatal(err)
		}
		if r2.ID != r1.ID {
			t.Fatalf("same Idempotency-Key gave two messages: %s and %s", r1.ID, r2.ID)
		}
		changed := *msg
		changed.Subject = "Something else"
		_, err = c.Send(ctx, &changed, client.WithIdempotencyKey("order-42"))
		if e := asError(t, err); e.Status != http.StatusConflict {
			t.Fatalf("reused key with another body: status %d, want 409", e.Status)
		}
		id = r1.ID
	})
	if id == "" {
		t.FailNow()
	}

	t.Run("invalid address", func(t *testing.T) {
		bad := &client.Message{From: "noreply@" + senderDomain, To: []string{"not an address"}, Subject: "x", Text: "x"}
		_, err := c.Send(ctx, bad)
		e := asError(t, err)
		if e.Status != http.StatusBadRequest || len(e.Fields) == 0 || e.Fields[0].Field != "to[0]" {
			t.Fatalf("got %+v, want 400 with field to[0]", e)
		}
		if e.RequestID == "" || e.Title == "" || !strings.Contains(e.Error(), "400") {
			t.Errorf("problem lacks request id, title or status: %+v / %q", e, e.Error())
		}
	})

	t.Run("bad key", func(t *testing.T) {
		_, err := client.New(base, "sp_nonsense").GetMessage(ctx, id)
		if e := asError(t, err); e.Status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", e.Status)
		}
	})

	t.Run("delivered", func(t *testing.T) {
		var m *client.MessageStatus
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var err error
			if m, err = c.GetMessage(ctx, id); err != nil {
				t.Fatal(err)
			}
			if len(m.Recipients) == 1 && m.Recipients[0].Status == "delivered" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not delivered in time: %+v", m)
			}
		}
		if m.ID != id || m.Subject != "Your results" || m.Metadata["order"] != "42" || len(m.Tags) != 1 || m.CreatedAt.IsZero() || m.Size == 0 {
			t.Errorf("unexpected message view %+v", m)
		}
		got := rcv.Messages()
		if len(got) != 1 {
			t.Fatalf("receiver got %d messages, want 1", len(got))
		}
		// The attachment arrived intact: its base64 body is in the MIME (folded at 76).
		flat := strings.NewReplacer("\r\n", "").Replace(string(got[0].Data))
		if !strings.Contains(flat, base64.StdEncoding.EncodeToString(pdf)) || !bytes.Contains(got[0].Data, []byte("X-Clinic-Ref: r-17")) {
			t.Errorf("delivered message lacks the attachment or header:\n%s", got[0].Data)
		}
	})

	t.Run("events", func(t *testing.T) {
		other, err := c.Send(ctx, &client.Message{From: "noreply@" + senderDomain, To: []string{"other@" + patientDomain}, Subject: "x", Text: "x"})
		if err != nil {
			t.Fatal(err)
		}
		page, err := c.ListEvents(ctx, client.EventQuery{Message: id})
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, ev := range page.Events {
			if ev.MessageID != id {
				t.Errorf("filter by message %s returned an event of %s", id, ev.MessageID)
			}
			types[ev.Type] = true
		}
		if !types["delivered"] || page.NextCursor == "" {
			t.Errorf("events of %s: types %v, next cursor %q", id, types, page.NextCursor)
		}
		page, err = c.ListEvents(ctx, client.EventQuery{Message: other.ID, Types: []string{"delivered", "bounced"}, Since: time.Now().Add(-time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			if ev.MessageID != other.ID || (ev.Type != "delivered" && ev.Type != "bounced") {
				t.Errorf("unexpected event %+v", ev)
			}
		}
		_, err = c.ListEvents(ctx, client.EventQuery{Types: []string{"openned"}})
		if e := asError(t, err); e.Status != 400 || len(e.Fields) == 0 || e.Fields[0].Field != "type" {
			t.Errorf("unknown event type: %+v", e)
		}
	})

	t.Run("batch", func(t *testing.T) {
		res, err := c.SendBatch(ctx, []*client.Message{
			{From: "noreply@" + senderDomain, To: []string{"a@" + patientDomain}, Subject: "1", Text: "1"},
			{From: "noreply@" + senderDomain, To: []string{"bad"}, Subject: "2", Text: "2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].Status != 202 || res[0].Result == nil || res[0].Result.ID == "" ||
			res[1].Status != 400 || res[1].Error == nil || len(res[1].Error.Fields) == 0 || res[1].Error.Fields[0].Field != "messages[1].to[0]" {
			t.Fatalf("unexpected batch results %+v", res)
		}
	})

	t.Run("templates", func(t *testing.T) {
		tpl, err := c.CreateTemplate(ctx, client.TemplateInput{Name: "results", Subject: "Results for {{name}}", Text: "Hello {{name}}"})
		if err != nil {
			t.Fatal(err)
		}
		if tpl.ID == "" || tpl.Name != "results" || tpl.Text != "Hello {{name}}" || tpl.CreatedAt.IsZero() {
			t.Fatalf("unexpected template %+v", tpl)
		}
		got, err := c.GetTemplate(ctx, tpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tpl.ID || got.Subject != tpl.Subject {
			t.Fatalf("got %+v, want %+v", got, tpl)
		}
		up, err := c.UpdateTemplate(ctx, tpl.ID, client.TemplateInput{Name: "results", Subject: "New {{name}}", Text: "Hi {{name}}"})
		if err != nil || up.Subject != "New {{name}}" {
			t.Fatalf("update: %+v %v", up, err)
		}
		page, err := c.ListTemplates(ctx, "", 0)
		if err != nil || len(page.Templates) != 1 || page.Templates[0].ID != tpl.ID {
			t.Fatalf("list: %+v %v", page, err)
		}
		res, err := c.Send(ctx, &client.Message{From: "noreply@" + senderDomain, To: []string{"t@" + patientDomain}, TemplateID: tpl.ID, TemplateData: map[string]any{"name": "Pat"}})
		if err != nil || res.ID == "" {
			t.Fatalf("send with template: %+v %v", res, err)
		}
		_, err = c.CreateTemplate(ctx, client.TemplateInput{Name: "broken", Subject: "x", Text: "Hello {{#open}}"})
		if e := asError(t, err); e.Status != 422 {
			t.Errorf("broken template: status %d, want 422", e.Status)
		}
		if err := c.DeleteTemplate(ctx, tpl.ID); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetTemplate(ctx, tpl.ID)
		if e := asError(t, err); e.Status != http.StatusNotFound {
			t.Fatalf("deleted template: status %d, want 404", e.Status)
		}
	})
}

// TestClientPortal sends a message forced to the portal, lists its copy, moves its
// expiry (a bad one is a field error) and revokes it.
func TestClientPortal(t *testing.T) {
	base, key, _ := startServer(t)
	ctx := testContext(t)
	c := client.New(base, key)
	res, err := c.Send(ctx, &client.Message{From: "noreply@" + senderDomain, To: []string{"pat@" + patientDomain}, Subject: "Results",
		Text: "Potassium 4.1", Security: &client.Security{Force: "portal"}, Portal: &client.PortalOptions{ExpiresIn: "72h"}})
	if err != nil {
		t.Fatal(err)
	}
	var copies []client.PortalCopy
	for deadline := time.Now().Add(15 * time.Second); len(copies) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if copies, err = c.PortalCopies(ctx, res.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(copies) != 1 || copies[0].State != "readable" || copies[0].Email != "pat@"+patientDomain || copies[0].Access != "code" {
		t.Fatalf("copies: %+v", copies)
	}
	if exp := time.Until(copies[0].ExpiresAt); exp < 71*time.Hour || exp > 73*time.Hour {
		t.Errorf("expiry %v from now, want 72h", exp)
	}
	_, err = c.SetPortalExpiry(ctx, res.ID, "", time.Now().Add(-time.Hour))
	if e := asError(t, err); e.Status != 422 || len(e.Fields) == 0 || e.Fields[0].Field != "expires_at" {
		t.Errorf("past expiry: %+v", e)
	}
	moved, err := c.SetPortalExpiry(ctx, res.ID, "pat@"+patientDomain, time.Now().Add(24*time.Hour))
	if err != nil || len(moved) != 1 || time.Until(moved[0].ExpiresAt) > 25*time.Hour {
		t.Fatalf("move expiry: %+v %v", moved, err)
	}
	revoked, err := c.Revoke(ctx, res.ID, "")
	if err != nil || len(revoked) != 1 || revoked[0].Outcome != "revoked" {
		t.Fatalf("revoke: %+v %v", revoked, err)
	}
	if copies, _ = c.PortalCopies(ctx, res.ID); copies[0].State != "revoked" {
		t.Errorf("after revoke: %+v", copies)
	}
	if _, err := c.Revoke(ctx, "msg_unknown", ""); asError(t, err).Status != 404 {
		t.Error("revoking an unknown message is not a 404")
	}
}
