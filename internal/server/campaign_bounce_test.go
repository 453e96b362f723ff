package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestCampaignBouncesPause: with a 5 % bounce guard over one hour, bounces older than
// the window do not count, bounces at the rate keep the campaign running, and one
// more pauses it — with its event and audit entry.
func TestCampaignBouncesPause(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		clock := newTestClock()
		e := newEnv(t, dbURL, envOptions{options: campaignOptions(clock), quiet: true})
		list, _ := e.audience(300, func(int) bool { return true })
		id := e.startCampaign(e.marketer(), map[string]any{"name": "Newsletter", "from": "news@clinic.example", "subject": "News", "text": "Hello",
			"lists": []string{list}, "throttle_per_hour": 12000, "guards": map[string]any{"bounce_rate": 0.05, "window": "1h"}})
		e.waitFor("the campaign to start", 10*time.Second, func() bool { return e.state(id) == "running" })
		clock.Add(time.Minute) // 200 messages: credit reaches back one minute at most
		e.srv.Campaigns.Wake()
		e.waitFor("200 delivered", 30*time.Second, func() bool { return num(e.report(id), "deliveries", "delivered") == 200 })
		_, out := e.do("GET", "/v1/events?type=delivered&limit=100", e.key, nil)
		evs := out["events"].([]any)
		next := 0
		bounce := func(n int, at time.Time) {
			// Asynchronous bounces arrive as "bounced" events on delivered messages;
			// injected here, each on a different recipient.
			err := e.srv.DB.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
				for _, v := range evs[next : next+n] {
					ev := v.(map[string]any)
					if err := tx.InsertEvents(ctx, &store.Event{TenantID: e.tenant, MessageID: ev["message_id"].(string), RecipientID: ev["recipient_id"].(string), Type: "bounced", At: at}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			next += n
		}
		stillRunning := func(what string) {
			t.Helper()
			e.srv.Campaigns.Wake()
			time.Sleep(200 * time.Millisecond)
			if st := e.report(id)["state"]; st != "running" {
				t.Fatalf("paused %s: %v", what, st)
			}
		}
		bounce(30, clock.Now().Add(-2*time.Hour))
		stillRunning("by bounces outside the window")
		bounce(10, time.Now()) // 10 of 200: 5 %, not above
		stillRunning("at 5 %")
		bounce(1, time.Now())
		e.srv.Campaigns.Wake()
		e.waitFor("the guard to pause the campaign", 10*time.Second, func() bool { return e.report(id)["state"] == "paused" })
		if evs := e.events("type=campaign.paused"); len(evs) != 1 {
			t.Fatalf("campaign.paused events: %v", evs)
		}
		_, au := e.do("GET", "/v1/audit?action=campaign.pause", e.key, nil)
		if !strings.Contains(fmt.Sprint(au), "bounces 11 of 200") {
			t.Fatalf("no audit entry for the pause: %v", au)
		}
		clock.Add(time.Minute)
		e.srv.Campaigns.Wake()
		time.Sleep(200 * time.Millisecond)
		if n := num(e.report(id), "recipients", "sent"); n != 200 {
			t.Fatalf("%d sent after the pause", n)
		}
	})
}
