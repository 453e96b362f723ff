package delivery_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
)

func TestDeliverReusesConnection(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("p.test", "mx.p.test", net.ParseIP(localhost))
	r := n.receiver("mx.p.test", devnet.ReceiverOptions{})
	c := n.client(r.Port(), delivery.Config{MaxMessagesPerConn: 3})
	ctx := ctxFor(t)

	var reused []bool
	for i := range 4 {
		res, err := c.Deliver(ctx, delivery.Envelope{From: "s@x.test", To: fmt.Sprintf("u%d@p.test", i)}, strings.NewReader("m\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if !res.TLS.Verified {
			t.Errorf("message %d: TLS %+v", i, res.TLS)
		}
		reused = append(reused, res.Reused)
	}
	// The third message reaches MaxMessagesPerConn, so the fourth needs a
	// new connection.
	if fmt.Sprint(reused) != "[false true true false]" || r.Connections() != 2 {
		t.Errorf("reused %v over %d connections", reused, r.Connections())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// After Close nothing is pooled: the next delivery dials again.
	res, err := c.Deliver(ctx, delivery.Envelope{To: "z@p.test"}, strings.NewReader("m\r\n"))
	if err != nil || res.Reused || r.Connections() != 3 {
		t.Errorf("after Close: %+v, %v, %d connections", res, err, r.Connections())
	}
}

// TestDeliverStaleConnection checks that an idle connection the server
// has dropped is replaced transparently.
func TestDeliverStaleConnection(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("s.test", "mx.s.test", net.ParseIP(localhost))
	r := n.receiver("", devnet.ReceiverOptions{})
	c := n.client(r.Port(), delivery.Config{})
	if _, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "a@s.test"}, strings.NewReader("m\r\n")); err != nil {
		t.Fatal(err)
	}
	// Restart the receiver on the same port: the pooled connection dies.
	addr := r.Addr()
	r.Close()
	r2 := n.receiver("", devnet.ReceiverOptions{Addr: addr})
	res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "b@s.test"}, strings.NewReader("m\r\n"))
	if err != nil || res.Reused || r2.Count() != 1 {
		t.Fatalf("after restart: %+v, %v, count %d", res, err, r2.Count())
	}
}

func TestDeliverIdleTimeout(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("i.test", "mx.i.test", net.ParseIP(localhost))
	r := n.receiver("", devnet.ReceiverOptions{})
	c := n.client(r.Port(), delivery.Config{IdleTimeout: 50 * time.Millisecond})
	for range 2 {
		res, err := c.Deliver(ctxFor(t), delivery.Envelope{To: "a@i.test"}, strings.NewReader("m\r\n"))
		if err != nil || res.Reused {
			t.Fatalf("%+v, %v", res, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if r.Connections() != 2 {
		t.Errorf("%d connections, want 2", r.Connections())
	}
}

func TestDeliverConcurrent(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	n.dns.AddZoneMX("c.test", "mx.c.test", net.ParseIP(localhost))
	r := n.receiver("mx.c.test", devnet.ReceiverOptions{})
	c := n.client(r.Port(), delivery.Config{MaxIdlePerHost: 2})
	ctx := ctxFor(t)

	const workers, each = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				to := fmt.Sprintf("w%d-%d@c.test", w, i)
				body := fmt.Sprintf("To: %s\r\n\r\nbody %d %d\r\n", to, w, i)
				if _, err := c.Deliver(ctx, delivery.Envelope{From: "s@x.test", To: to}, strings.NewReader(body)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if r.Count() != workers*each {
		t.Fatalf("received %d messages", r.Count())
	}
	for _, m := range r.Messages() {
		if !strings.HasPrefix(string(m.Data), "To: "+m.To[0]+"\r\n") {
			t.Errorf("message for %s carries %q", m.To[0], m.Data)
		}
	}
	if r.Connections() >= workers*each {
		t.Errorf("%d connections for %d messages: no reuse", r.Connections(), workers*each)
	}
}
