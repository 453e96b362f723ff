package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/webhook"
)

// hookCounter is a receiver that verifies every delivery and counts them per webhook-id,
// keeping the first body seen for each.
type hookCounter struct {
	mu     sync.Mutex
	key    []byte
	count  map[string]int
	body   map[string]string
	bad    int
	differ int
}

func (h *hookCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	defer h.mu.Unlock()
	if webhook.Verify(id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b, time.Now(), [][]byte{h.key}, nil) != nil {
		h.bad++
		w.WriteHeader(400)
		return
	}
	if prev, ok := h.body[id]; ok && prev != string(b) {
		h.differ++
	}
	h.count[id]++
	h.body[id] = string(b)
	w.WriteHeader(204)
}

// allEvents pages through a tenant's whole timeline.
func allEvents(t *testing.T, base, key string) []string {
	var ids []string
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", base+"/v1/events?limit=1000&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
			NextCursor string `json:"next_cursor"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		for _, e := range out.Events {
			ids = append(ids, e.ID)
		}
		if len(out.Events) == 0 || out.NextCursor == cursor {
			return ids
		}
		cursor = out.NextCursor
	}
}

// TestWebhooksSurviveKill9 kills the server during a burst of 1,000 messages with an
// endpoint subscribed: after a restart every event in the timeline reaches the endpoint,
// and a repeat carries the same webhook-id and body.
func TestWebhooksSurviveKill9(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		p := newProcEnv(t, dbURL)
		p.environ = append(p.environ, "SEALPOST_WEBHOOKS_ALLOW_LOOPBACK=true")
		h := &hookCounter{count: map[string]int{}, body: map[string]string{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: h}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
		secret := strings.TrimSpace(p.run("webhook", "add", "--tenant", "clinic", "http://"+ln.Addr().String()+"/hook"))
		if h.key, err = webhook.ParseSecret(secret); err != nil {
			t.Fatal(err)
		}
		readKey := p.key

		const total = 1000
		s := &sender{acked: map[int]bool{}}
		cmd, base := p.start("first")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.run(ctx, []string{base}, p.key, total, 16); close(done) }()
		for s.count() < total/3 {
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		<-done
		_, base = p.start("second")
		s.run(context.Background(), []string{base}, p.key, total, 16)
		waitDelivered(t, p.rcv, s, 90*time.Second)

		deadline := time.Now().Add(90 * time.Second)
		var missing []string
		for {
			ids := allEvents(t, base, readKey)
			missing = missing[:0]
			h.mu.Lock()
			for _, id := range ids {
				if h.count[id] == 0 {
					missing = append(missing, id)
				}
			}
			repeats := 0
			for _, n := range h.count {
				repeats += n - 1
			}
			bad, differ := h.bad, h.differ
			h.mu.Unlock()
			if len(missing) == 0 {
				t.Logf("%d events, all delivered to the endpoint; %d repeats (same webhook-id), %d unverifiable, %d with a different body", len(ids), repeats, bad, differ)
				if bad > 0 || differ > 0 {
					t.Fatalf("%d deliveries failed verification, %d repeats changed their body", bad, differ)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events never reached the endpoint (first %s)", len(missing), len(ids), fmt.Sprint(missing[:min(5, len(missing))]))
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
}
