package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// Events fan out to the endpoints whose filter takes them, in the events' own
// transaction; claims lease jobs; attempts settle them.
func TestWebhookJobsFollowEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := open(t, url)
		now := time.Now().Truncate(time.Millisecond)
		put := func(id, tenant string, enabled bool, types ...string) {
			if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.PutWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: id, TenantID: tenant, URL: []byte("sealed"), Types: types, Enabled: enabled, CreatedAt: now, UpdatedAt: now})
			}); err != nil {
				t.Fatal(err)
			}
		}
		put("whk_all", "ten_a", true)
		put("whk_delivered", "ten_a", true, "delivered", "bounced")
		put("whk_off", "ten_a", false)
		put("whk_other", "ten_b", true)
		evs := []*store.Event{
			{TenantID: "ten_a", MessageID: "msg_1", RecipientID: "rcp_1", Type: "accepted", At: now},
			{TenantID: "ten_a", MessageID: "msg_1", RecipientID: "rcp_1", Type: "delivered", At: now},
			{TenantID: "ten_a", MessageID: "msg_1", RecipientID: "rcp_1", Type: "delivered.later", At: now}, // no prefix match
		}
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertEvents(ctx, evs...) }); err != nil {
			t.Fatal(err)
		}
		if evs[0].ID == 0 || evs[1].ID <= evs[0].ID {
			t.Fatalf("event ids not set in order: %d, %d", evs[0].ID, evs[1].ID)
		}
		jobs, err := db.ClaimWebhookJobs(ctx, "p1", now, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]int64{}
		for _, j := range jobs {
			got[j.EndpointID] = append(got[j.EndpointID], j.EventID)
			if j.Attempts != 1 || j.TenantID != "ten_a" {
				t.Errorf("job %+v", j)
			}
		}
		if len(got["whk_all"]) != 3 || len(got["whk_delivered"]) != 1 || got["whk_delivered"][0] != evs[1].ID || len(got["whk_off"])+len(got["whk_other"]) != 0 {
			t.Fatalf("jobs per endpoint: %v", got)
		}
		if again, _ := db.ClaimWebhookJobs(ctx, "p2", now, 100, time.Minute); len(again) != 0 {
			t.Fatalf("leased jobs claimed again: %d", len(again))
		}

		// A failure moves the job on and marks the endpoint failing; a success clears it.
		j := jobs[0]
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.RecordWebhookAttempt(ctx, j, &store.WebhookAttempt{At: now, Status: 500, Error: "answered 500", Outcome: "retrying"}, now.Add(5*time.Second))
		}); err != nil {
			t.Fatal(err)
		}
		ep, _ := db.WebhookEndpoint(ctx, "ten_a", j.EndpointID)
		if !ep.FailingSince.Equal(now) {
			t.Fatalf("failing_since %v, want %v", ep.FailingSince, now)
		}
		if due, _ := db.ClaimWebhookJobs(ctx, "p1", now.Add(6*time.Second), 100, time.Minute); len(due) != 1 || due[0].ID != j.ID || due[0].Attempts != 2 {
			t.Fatalf("retry not due: %+v", due)
		}
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.RecordWebhookAttempt(ctx, j, &store.WebhookAttempt{At: now.Add(6 * time.Second), Status: 204, Outcome: "delivered"}, time.Time{})
		}); err != nil {
			t.Fatal(err)
		}
		ep, _ = db.WebhookEndpoint(ctx, "ten_a", j.EndpointID)
		if !ep.FailingSince.IsZero() {
			t.Fatal("success did not clear failing_since")
		}
		atts, _ := db.WebhookAttempts(ctx, "ten_a", j.EndpointID, 0, 10)
		if len(atts) != 2 || atts[0].Outcome != "delivered" || atts[1].Status != 500 {
			t.Fatalf("attempts: %+v", atts)
		}
		if other, _ := db.WebhookAttempts(ctx, "ten_b", j.EndpointID, 0, 10); len(other) != 0 {
			t.Fatal("another tenant sees the attempts")
		}

		// Disabling drops pending jobs; a replay queues events again.
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			on, err := tx.DisableWebhookEndpoint(ctx, "whk_all", "answered 410 Gone", now)
			if !on {
				t.Error("endpoint was not on")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
			n, err = tx.EnqueueWebhookReplay(ctx, "ten_a", "whk_all", 0, now.Add(-time.Minute), now.Add(time.Minute), now)
			return err
		}); err != nil || n != 3 {
			t.Fatalf("replay queued %d, %v", n, err)
		}
		if pending, oldest, err := db.WebhookQueueStats(ctx); err != nil || pending < 3 || oldest.IsZero() {
			t.Fatalf("stats %d %v %v", pending, oldest, err)
		}
		// A busy endpoint's jobs are left out of a claim and stay due.
		if got, err := db.ClaimWebhookJobs(ctx, "p3", now, 100, time.Minute, "whk_all"); err != nil || len(got) != 0 {
			t.Fatalf("claim skipping whk_all: %d jobs, %v", len(got), err)
		}
		if got, _ := db.ClaimWebhookJobs(ctx, "p3", now, 100, time.Minute); len(got) != 3 {
			t.Fatalf("claim after: %d jobs, want the 3 replayed", len(got))
		}
	})
}

func TestWebhookSecretRotationOverlap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := open(t, url)
		now := time.Now()
		add := func(secret string, at time.Time, overlap time.Duration) {
			if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return tx.AddWebhookSecret(ctx, "whk_1", []byte(secret), at, overlap)
			}); err != nil {
				t.Fatal(err)
			}
		}
		names := func(at time.Time) (out []string) {
			ss, err := db.WebhookSecrets(ctx, "whk_1", at)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ss {
				out = append(out, string(s.Secret))
			}
			return out
		}
		add("one", now, 0)
		add("two", now, time.Hour)
		if got := names(now.Add(time.Minute)); len(got) != 2 || got[0] != "two" {
			t.Fatalf("during overlap: %v", got)
		}
		if got := names(now.Add(2 * time.Hour)); len(got) != 1 || got[0] != "two" {
			t.Fatalf("after overlap: %v", got)
		}
		add("three", now.Add(time.Minute), 0)
		if got := names(now.Add(2 * time.Minute)); len(got) != 1 || got[0] != "three" {
			t.Fatalf("rotation without overlap: %v", got)
		}
	})
}
