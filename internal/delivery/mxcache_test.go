package delivery_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/devnet"
)

// With MXCacheTTL a domain's MX answer is reused; a failed lookup is not kept.
func TestDeliverMXCache(t *testing.T) {
	t.Parallel()
	n := newNet(t)
	r := n.receiver("mx.c.test", devnet.ReceiverOptions{})
	send := func(c *delivery.Client) error {
		_, err := c.Deliver(ctxFor(t), delivery.Envelope{From: "s@x.test", To: "u@c.test"}, strings.NewReader("m\r\n"))
		return err
	}
	cached := n.client(r.Port(), delivery.Config{MXCacheTTL: time.Minute})
	uncached := n.client(r.Port(), delivery.Config{})

	// Not there yet: the failure is not remembered.
	if err := send(cached); err == nil {
		t.Fatal("delivered to a domain without MX or address")
	}
	n.dns.AddZoneMX("c.test", "mx.c.test", net.ParseIP(localhost))
	if err := send(cached); err != nil {
		t.Fatalf("after the MX appeared: %v", err)
	}
	if err := send(uncached); err != nil {
		t.Fatal(err)
	}
	// The MX record goes (the host's address stays): the cache still knows it.
	n.dns.Remove("c.test")
	if err := send(cached); err != nil {
		t.Errorf("cached MX not used: %v", err)
	}
	if err := send(uncached); err == nil {
		t.Error("without a cache the removed MX was still used")
	}
}
