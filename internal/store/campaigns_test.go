package store

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestCampaignEventTotals: the counts a campaign's guard and report read — distinct
// recipients per event type, of that campaign's messages only, from since on, every
// type in one answer.
func TestCampaignEventTotals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, url string) {
		db := openMigrated(t, url, Options{})
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		old := now.Add(-48 * time.Hour)
		err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
			var rs []*CampaignRecipient
			for c := 1; c <= 2; c++ {
				for i := 1; i <= 4; i++ {
					rs = append(rs, &CampaignRecipient{CampaignID: fmt.Sprint("cmp", c), ContactID: fmt.Sprint("ct", i), TenantID: "t1", UpdatedAt: now})
				}
			}
			rs = append(rs, &CampaignRecipient{CampaignID: "cmp1", ContactID: "ct5", TenantID: "t1", UpdatedAt: now}) // never sent
			if err := tx.AddCampaignRecipients(ctx, rs); err != nil {
				return err
			}
			for c := 1; c <= 2; c++ {
				for i := 1; i <= 4; i++ {
					if err := tx.MarkCampaignRecipient(ctx, fmt.Sprint("cmp", c), fmt.Sprint("ct", i), "sent", "", fmt.Sprintf("m%d%d", c, i), now); err != nil {
						return err
					}
				}
			}
			ev := func(c, i int, typ string, at time.Time) *Event {
				return &Event{TenantID: "t1", MessageID: fmt.Sprintf("m%d%d", c, i), RecipientID: fmt.Sprintf("r%d%d", c, i), Type: typ, At: at}
			}
			return tx.InsertEvents(ctx,
				ev(1, 1, "delivered", now), ev(1, 1, "delivered", now), // counted once
				ev(1, 2, "delivered", now), ev(1, 3, "delivered", now), ev(1, 4, "delivered", old),
				ev(1, 2, "complained", now), ev(1, 3, "bounced", old), ev(1, 4, "unsubscribed", now),
				ev(2, 1, "delivered", now), ev(2, 2, "complained", now), // another campaign's
			)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			since time.Time
			types []string
			want  map[string]int
		}{
			{now.Add(-time.Hour), []string{"delivered", "complained", "bounced"}, map[string]int{"delivered": 3, "complained": 1}},
			{time.Time{}, []string{"delivered", "complained", "bounced"}, map[string]int{"delivered": 4, "complained": 1, "bounced": 1}},
			{time.Time{}, []string{"unsubscribed", "complained"}, map[string]int{"unsubscribed": 1, "complained": 1}},
			{time.Time{}, []string{"opened"}, map[string]int{}},
		} {
			got, err := db.CampaignEventTotals(ctx, "cmp1", c.since, c.types...)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("since %v, %v: got %v, want %v", c.since, c.types, got, c.want)
			}
		}
	})
}
