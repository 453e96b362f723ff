package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealpost/sealpost/internal/webhook"
)

// hookReceiver is the loopback endpoint a webhook run delivers to. It verifies each
// signature, as a receiver must, so its cost is part of the measurement's other side.
type hookReceiver struct {
	url   string
	srv   *http.Server
	mu    sync.Mutex
	key   []byte
	count atomic.Int64
	bad   atomic.Int64
	last  atomic.Int64 // unix nanoseconds of the latest delivery
}

func startHookReceiver() (*hookReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hookReceiver{url: "http://" + ln.Addr().String() + "/hook"}
	h.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		key := h.key
		h.mu.Unlock()
		if webhook.Verify(r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b, time.Now(), [][]byte{key}, nil) != nil {
			h.bad.Add(1)
		}
		h.count.Add(1)
		h.last.Store(time.Now().UnixNano())
		w.WriteHeader(204)
	})}
	go h.srv.Serve(ln)
	return h, nil
}

func (h *hookReceiver) setSecret(s string) {
	k, _ := webhook.ParseSecret(s)
	h.mu.Lock()
	h.key = k
	h.mu.Unlock()
}

// settle waits until no delivery has arrived for a second, and reports how many came
// and their rate from start to the last one.
func (h *hookReceiver) settle(ctx context.Context, start time.Time) (int, float64) {
	for ctx.Err() == nil {
		if last := h.last.Load(); last > 0 && time.Since(time.Unix(0, last)) > time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := int(h.count.Load())
	return n, float64(n) / time.Unix(0, h.last.Load()).Sub(start).Seconds()
}

func (h *hookReceiver) close() { h.srv.Close() }
