package server_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// heldHandoff stands between the pipeline and the real worker: it passes
// reservations through, keeps adopted jobs (with a copy of what they carry, which a
// delivery consumes) until the test lets them go, and counts what happened.
type heldHandoff struct {
	pipeline.Handoff
	mu         sync.Mutex
	owner      string
	reserved   int
	unreserved int
	adopted    [][]*store.Job
	carried    map[int64]store.Loaded
}

func (h *heldHandoff) Reserve(n int, now time.Time) (string, time.Time, bool) {
	owner, end, ok := h.Handoff.Reserve(n, now)
	h.mu.Lock()
	defer h.mu.Unlock()
	if ok {
		h.owner, h.reserved = owner, h.reserved+n
	}
	return owner, end, ok
}

func (h *heldHandoff) Adopt(jobs []*store.Job) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, j := range jobs {
		m, r := *j.Loaded.Message, *j.Loaded.Recipient
		h.carried[j.ID] = store.Loaded{Message: &m, Recipient: &r, Marketing: j.Loaded.Marketing}
	}
	h.adopted = append(h.adopted, jobs)
}

func (h *heldHandoff) Unreserve(n int) {
	h.mu.Lock()
	h.unreserved += n
	h.mu.Unlock()
	h.Handoff.Unreserve(n)
}

// release passes the kept jobs on to the worker.
func (h *heldHandoff) release() {
	h.mu.Lock()
	adopted := h.adopted
	h.adopted = nil
	h.mu.Unlock()
	for _, jobs := range adopted {
		h.Handoff.Adopt(jobs)
	}
}

// TestAcceptedMessagesGoStraightToTheWorker: a message accepted while the worker has
// room is committed with its jobs claimed by the worker and handed over with what a
// claim would read for them (the same rows ForDelivery reads), so nothing waits for a
// claim; the handed-over jobs deliver and record their outcomes by their ids. An
// idempotent replay stores nothing and gives its slots back, and the worker lends
// no more slots than it has free.
func TestAcceptedMessagesGoStraightToTheWorker(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{quiet: true, configure: func(c *config.Config) {
			c.Delivery.Concurrency, c.Delivery.PerDomain = 4, 4
		}})
		// The first claim at start has run: nothing is queued yet.
		time.Sleep(200 * time.Millisecond)
		h := &heldHandoff{Handoff: e.srv.Worker, carried: map[int64]store.Loaded{}}
		e.srv.Pipeline.HandOffTo(h)
		msg := map[string]any{"from": "a@clinic.example", "to": []string{"p1@patient.example", "p2@patient.example"}, "subject": "s", "text": "t"}
		status, res := e.send(e.key, msg, "Idempotency-Key", "k1")
		if status != 202 {
			t.Fatalf("send: %d %v", status, res)
		}
		h.mu.Lock()
		if h.reserved != 2 || len(h.adopted) != 1 || len(h.adopted[0]) != 2 {
			t.Fatalf("reserved %d slots, adopted %d messages", h.reserved, len(h.adopted))
		}
		jobs := h.adopted[0]
		h.mu.Unlock()
		ctx := context.Background()
		for _, j := range jobs {
			var attempts int
			var owner string
			if err := e.srv.DB.SQL().QueryRow("SELECT attempts, claimed_by FROM deliveries WHERE id = $1 AND recipient_id = $2", j.ID, j.RecipientID).Scan(&attempts, &owner); err != nil {
				t.Fatalf("job %d as stored: %v", j.ID, err)
			}
			if attempts != 1 || owner != h.owner || owner == "" || j.Attempts != 1 {
				t.Errorf("job %d: stored attempts %d owner %q (worker %q); handed over at attempt %d", j.ID, attempts, owner, h.owner, j.Attempts)
			}
			want, err := e.srv.DB.ForDelivery(ctx, j.MessageID, j.RecipientID)
			if err != nil {
				t.Fatal(err)
			}
			got := h.carried[j.ID]
			for _, f := range differing(*got.Message, *want.Message) {
				t.Errorf("job %d: the message it carries differs from the database's in %s", j.ID, f)
			}
			for _, f := range differing(*got.Recipient, *want.Recipient) {
				t.Errorf("job %d: the recipient it carries differs from the database's in %s", j.ID, f)
			}
			if got.Marketing != want.Marketing {
				t.Errorf("job %d: marketing %v, the database says %v", j.ID, got.Marketing, want.Marketing)
			}
			if j.Size != int(want.Message.Size) {
				t.Errorf("job %d size %d, message %d", j.ID, j.Size, want.Message.Size)
			}
		}
		// While the worker holds them, no claim finds them.
		if got, err := e.srv.DB.ClaimJobs(ctx, "someone-else", time.Now(), 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("another claim took %d handed-over jobs (%v)", len(got), err)
		}
		// The same send again: a replay, with its reservation given back.
		if s2, r2 := e.send(e.key, msg, "Idempotency-Key", "k1"); s2 != 202 || r2["id"] != res["id"] {
			t.Fatalf("replay: %d %v", s2, r2)
		}
		h.mu.Lock()
		if h.unreserved != 2 || len(h.adopted) != 1 {
			t.Errorf("after a replay: %d slots given back, %d messages adopted", h.unreserved, len(h.adopted))
		}
		h.mu.Unlock()
		// Two slots are lent; four exist.
		if _, _, ok := e.srv.Worker.Reserve(3, time.Now()); ok {
			t.Error("the worker lent three slots with two of four lent")
		}
		_, _, ok := e.srv.Worker.Reserve(2, time.Now())
		if !ok {
			t.Fatal("the worker refused its last two free slots")
		}
		e.srv.Worker.Unreserve(2)
		h.release()
		final := e.waitFinal(res["id"].(string))
		for _, r := range final["recipients"].([]any) {
			if st := r.(map[string]any)["status"]; st != "delivered" {
				t.Errorf("recipient %v", r)
			}
		}
		var left int
		e.srv.DB.SQL().QueryRow("SELECT COUNT(*) FROM deliveries").Scan(&left)
		if left != 0 || e.rcv.Count() != 2 {
			t.Errorf("%d jobs left, %d messages received", left, e.rcv.Count())
		}
	})
}

// differing names the fields in which two structs of one type differ (sealed values
// are not printed).
func differing[T any](a, b T) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return out
}
