package cli

import (
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/webhook"
)

// The webhook verbs against a real receiver on loopback: add prints a secret that
// verifies the test delivery, rotate's new secret verifies the next, bad input is
// refused with every field named, and every change is in the audit trail.
func TestWebhookCommands(t *testing.T) {
	cfg := writeConfig(t)
	base, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(base, []byte("[webhooks]\nallow_loopback = true\n")...), 0o600)
	for _, s := range [][]string{{"masterkey", "init"}, {"tenant", "create", "clinic"}} {
		if code, _, errOut := run(t, append(s, "--config", cfg)...); code != 0 {
			t.Fatalf("%v: %s", s, errOut)
		}
	}
	var secret atomic.Value
	var verified, calls atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body := make([]byte, r.ContentLength)
		r.Body.Read(body)
		key, _ := webhook.ParseSecret(secret.Load().(string))
		if webhook.Verify(r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, time.Now(), [][]byte{key}, nil) == nil {
			verified.Add(1)
		}
		w.WriteHeader(204)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/hook"

	code, out, errOut := run(t, "webhook", "add", "--tenant", "clinic", "--types", "delivered,bounced", url, "--config", cfg)
	if code != 0 || !strings.HasPrefix(out, "whsec_") {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	secret.Store(strings.TrimSpace(out))
	id := strings.Fields(errOut)[1]
	code, out, _ = run(t, "webhook", "list", "--tenant", "clinic", "--config", cfg)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "delivered,bounced") || strings.Contains(out, "whsec_") {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, errOut := run(t, "webhook", "test", "--tenant", "clinic", id, "--config", cfg); code != 0 || verified.Load() != 1 {
		t.Fatalf("test: %d %q %q, verified %d", code, out, errOut, verified.Load())
	}
	code, out, _ = run(t, "webhook", "rotate", "--tenant", "clinic", "--overlap", "0s", id, "--config", cfg)
	if code != 0 || !strings.HasPrefix(out, "whsec_") {
		t.Fatalf("rotate: %d %q", code, out)
	}
	secret.Store(strings.TrimSpace(out))
	if code, _, _ := run(t, "webhook", "test", "--tenant", "clinic", id, "--config", cfg); code != 0 || verified.Load() != 2 {
		t.Fatalf("test after rotation: %d, verified %d of %d", code, verified.Load(), calls.Load())
	}

	// Every problem at once, by field; nothing is stored.
	code, _, errOut = run(t, "webhook", "add", "--tenant", "clinic", "--types", "delivered,sent", "ftp://x.example/", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "url: ") || !strings.Contains(errOut, "types[1]: unknown event type") {
		t.Fatalf("bad add: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "webhook", "remove", "--tenant", "clinic", "whk_nothere", "--config", cfg); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("remove unknown: %d %q", code, errOut)
	}
	if code, _, _ := run(t, "webhook", "remove", "--tenant", "clinic", id, "--config", cfg); code != 0 {
		t.Fatal("remove failed")
	}
	code, out, _ = run(t, "audit", "export", "--tenant", "clinic", "--config", cfg)
	for _, action := range []string{"webhook.add", "webhook.rotate", "webhook.remove"} {
		if code != 0 || !strings.Contains(out, `"`+action+`"`) {
			t.Errorf("audit export lacks %s: %q", action, out)
		}
	}
}
