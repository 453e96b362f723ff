package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestQueueDrainsWithoutPolling: with one delivery slot, every claim fills it, so
// each finished delivery must wake the claim loop for the next job. Forty queued
// messages then go out one after another in a few seconds; if any had to wait for
// the idle poll (a second), they would need more than forty.
func TestQueueDrainsWithoutPolling(t *testing.T) {
	t.Parallel() // its own server, database and receiver; it mostly waits on deliveries
	storetest.Each(t, func(t *testing.T, dbURL string) {
		const total = 40
		e := newEnv(t, dbURL, envOptions{quiet: true, configure: func(c *config.Config) {
			c.Delivery.Concurrency, c.Delivery.PerDomain = 1, 1
			c.Archive.Journal = false
		}})
		start := time.Now()
		for i := range total {
			if status, res := e.send(e.key, map[string]any{"from": "a@clinic.example", "to": fmt.Sprintf("p%d@patient.example", i),
				"subject": "s", "text": "t"}); status != 202 {
				t.Fatalf("send: %d %v", status, res)
			}
		}
		// Generous for a busy machine, far below one poll per message.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.rcv.WaitCount(ctx, total); err != nil {
			t.Fatalf("%d messages, one slot: %v after %v", total, err, time.Since(start))
		}
		t.Logf("%d messages through one slot in %v", total, time.Since(start).Round(time.Millisecond))
	})
}
