package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// guard pauses a running campaign whose complaints or bounces over the guard window
// exceed their share of its delivered messages — mailbox providers start rejecting a
// domain whose complaint rate passes 0.3 %. The pause, its campaign.paused event (and
// webhook) and the audit entry commit together.
func (s *Service) guard(ctx context.Context, k *tenant.Keys, c *store.Campaign, sp *Spec, now time.Time) (bool, error) {
	counts, err := s.DB.CampaignEventTotals(ctx, c.ID, now.Add(-sp.Guards.window()), "delivered", "complained", "bounced")
	if err != nil {
		return false, err
	}
	d := counts["delivered"]
	if d < sp.Guards.minDelivered() {
		return false, nil
	}
	reason := ""
	for _, g := range []struct {
		event, name string
		rate        float64
	}{{"complained", "complaints", sp.Guards.complaintRate()}, {"bounced", "bounces", sp.Guards.bounceRate()}} {
		if n := counts[g.event]; float64(n) > g.rate*float64(d) {
			reason = fmt.Sprintf("%s %d of %d delivered exceed %.2f %%", g.name, n, d, 100*g.rate)
			break
		}
	}
	if reason == "" {
		return false, nil
	}
	from := c.State
	c.State, c.PausedReason, c.UpdatedAt = Paused, reason, now
	err = s.write(ctx, c, from, "campaign.pause", reason)
	if s.Log != nil && err == nil {
		s.Log.Warn("campaign paused by its guard", "campaign", c.ID, "reason", reason)
	}
	return true, err
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// decide chooses the A/B winner once the sample is sent and the wait has passed:
// the variant with more recipients who clicked as people (report counter "clicked";
// proxy and scanner clicks are counted apart and opens not at all). A tie goes to A.
func (s *Service) decide(ctx context.Context, c *store.Campaign, sp *Spec, now time.Time) error {
	if !c.Expanded {
		return nil
	}
	if c.ABDecideAt.IsZero() {
		pending, err := s.DB.PendingCampaignRecipients(ctx, c.ID, []string{"a", "b"}, 1)
		if err != nil || len(pending) > 0 {
			return err
		}
		wait, _ := duration.ParsePositive(sp.AB.WaitFor)
		from := c.State
		c.ABDecideAt, c.UpdatedAt = now.Add(wait), now
		return s.write(ctx, c, from, "campaign.ab.sample_sent", "")
	}
	if now.Before(c.ABDecideAt) {
		return nil
	}
	clicks, err := s.DB.CampaignFirsts(ctx, c.ID, "clicked")
	if err != nil {
		return err
	}
	winner := "a"
	if clicks["b"] > clicks["a"] {
		winner = "b"
	}
	from := c.State
	c.ABWinner, c.UpdatedAt = winner, now
	return s.write(ctx, c, from, "campaign.ab.winner", fmt.Sprintf("%s: human clicks a=%d b=%d", winner, clicks["a"], clicks["b"]))
}

// Gate is the delivery worker's re-check at claim time: marketing's (suppression,
// consent, fields) for every marketing message, and for a campaign's message that
// its campaign was not cancelled.
type Gate struct {
	Marketing *marketing.Service
	DB        *store.DB
}

// CheckDelivery implements queue.Gate.
func (g *Gate) CheckDelivery(ctx context.Context, tenantID, messageID string) (string, error) {
	reason, isMarketing, err := g.Marketing.CheckMarketingDelivery(ctx, tenantID, messageID)
	if err != nil || reason != "" || !isMarketing {
		return reason, err
	}
	state, err := g.DB.CampaignStateOfMessage(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if state == Cancelled {
		return "campaign cancelled", nil
	}
	return "", nil
}
