package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// sendPerTick bounds the messages one pass stores for one campaign, so every running
// campaign gets its turn and a pause takes effect within one pass.
const sendPerTick = 500

// Run is the scheduler: until ctx ends it starts campaigns whose time has come,
// expands audiences, sends within each campaign's throttle, decides A/B tests,
// applies the guards and finishes campaigns with nobody left to send.
func (s *Service) Run(ctx context.Context) {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	tick := s.Tick
	if tick <= 0 {
		tick = time.Second
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
		more, err := s.Pass(ctx)
		if err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Warn("campaign scheduler pass failed", "err", err)
		}
		next := tick
		if more {
			next = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// Init prepares Wake before Run starts (so actions made meanwhile are not lost).
func (s *Service) Init() {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
}

// Pass does one round of work for every due campaign and reports whether there is
// more to do at once.
func (s *Service) Pass(ctx context.Context) (bool, error) {
	now := s.now()
	due, err := s.DB.DueCampaigns(ctx, now)
	if err != nil {
		return false, err
	}
	more := false
	var firstErr error
	for _, c := range due {
		m, err := s.step(ctx, c, now)
		if errors.Is(err, store.ErrConflict) {
			// Another process (or a person) changed it meanwhile: next pass.
			more, err = true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		more = more || m
	}
	return more, firstErr
}

// step advances one campaign.
func (s *Service) step(ctx context.Context, c *store.Campaign, now time.Time) (bool, error) {
	k, err := s.Tenants.Keys(ctx, c.TenantID)
	if err != nil {
		return false, err
	}
	_, sp, err := s.open(k, c)
	if err != nil {
		return false, err
	}
	if c.State == Scheduled {
		from := c.State
		c.State, c.StartedAt, c.CreditAt, c.UpdatedAt = Running, now, now, now
		if err := s.write(ctx, c, from, "campaign.start", ""); err != nil {
			return false, err
		}
	}
	if paused, err := s.guard(ctx, k, c, sp, now); err != nil || paused {
		return false, err
	}
	more := false
	if !c.Expanded {
		if err := s.expand(ctx, c, sp, now); err != nil {
			return false, err
		}
		more = !c.Expanded
	}
	variants := []string{""}
	if sp.AB != nil {
		variants = []string{"a", "b"}
		if c.ABWinner != "" {
			variants = append(variants, "rest")
		} else if err := s.decide(ctx, c, sp, now); err != nil {
			return false, err
		} else if c.ABWinner != "" {
			variants = append(variants, "rest")
		}
	}
	sent, err := s.send(ctx, c, sp, variants, now)
	if err != nil {
		return false, err
	}
	if sent > 0 {
		more = true
	}
	if c.Expanded && sent == 0 && (sp.AB == nil || c.ABWinner != "") {
		counts, err := s.DB.CountCampaignRecipients(ctx, c.ID)
		if err != nil {
			return false, err
		}
		if counts.ByStatus["pending"] == 0 {
			from := c.State
			c.State, c.FinishedAt, c.UpdatedAt = Finished, now, now
			return false, s.write(ctx, c, from, "campaign.finish", "")
		}
	}
	return more, nil
}

// write stores the scheduler's change to a campaign with an audit entry and, for a
// change worth announcing, its event (and so its webhook), in one transaction.
func (s *Service) write(ctx context.Context, c *store.Campaign, from, action, reason string) error {
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.writeTx(ctx, tx, c, from, action, reason)
	})
}

func (s *Service) writeTx(ctx context.Context, tx *store.Tx, c *store.Campaign, from, action, reason string) error {
	if err := tx.UpdateCampaign(ctx, c, from); err != nil {
		return err
	}
	detail := from + " -> " + c.State
	if reason != "" {
		detail += " (" + reason + ")"
	}
	if from != c.State && (c.State == Paused || c.State == Finished) {
		k, err := s.Tenants.Keys(ctx, c.TenantID)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]string{"campaign_id": c.ID, "state": c.State, "reason": reason})
		ev := &store.Event{TenantID: c.TenantID, RecipientID: c.ID, Type: "campaign." + c.State, At: c.UpdatedAt, Data: k.Data.Seal(b, "event/"+c.ID)}
		if err := tx.InsertEvents(ctx, ev); err != nil {
			return err
		}
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: c.UpdatedAt, TenantID: c.TenantID, Principal: "system:campaigns", Action: action,
		Object: c.ID, Result: "ok", Detail: detail})
}

// audienceFilter is the campaign's audience in the segment language: any list or
// segment, with a live consent of the campaign's kind and purpose, not suppressed.
func (s *Service) audienceFilter(ctx context.Context, tenantID string, sp *Spec) (json.RawMessage, error) {
	var srcs []any
	for _, id := range sp.Lists {
		srcs = append(srcs, map[string]string{"list": id})
	}
	for _, id := range sp.Segments {
		sg, err := s.Marketing.GetSegment(ctx, tenantID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since: it names nobody now
		} else if err != nil {
			return nil, err
		}
		srcs = append(srcs, sg.Filter)
	}
	if len(srcs) == 0 {
		return nil, nil // every segment was deleted: nobody
	}
	f := map[string]any{"and": []any{
		map[string]any{"or": srcs},
		map[string]any{"consent": map[string]string{"kind": sp.Consent.Kind, "purpose": sp.Consent.Purpose}},
		map[string]any{"not": map[string]string{"suppressed": marketing.ScopeMarketing}},
		map[string]any{"not": map[string]string{"suppressed": marketing.ScopeTransactional}},
	}}
	b, err := json.Marshal(f)
	return b, err
}

// expand stores one batch of the audience, in contact id order after the cursor,
// and moves the cursor in the same transaction: a crash repeats at most a batch
// whose rows already exist (and are kept).
func (s *Service) expand(ctx context.Context, c *store.Campaign, sp *Spec, now time.Time) error {
	filter, err := s.audienceFilter(ctx, c.TenantID, sp)
	if err != nil {
		return err
	}
	var ids []string
	if filter != nil {
		n, err := s.Marketing.Compile(ctx, c.TenantID, filter)
		if err != nil {
			return err
		}
		if ids, err = s.DB.SegmentContactIDs(ctx, c.TenantID, n, c.Cursor, s.batch()); err != nil {
			return err
		}
	}
	rs := make([]*store.CampaignRecipient, len(ids))
	for i, id := range ids {
		rs[i] = &store.CampaignRecipient{CampaignID: c.ID, ContactID: id, TenantID: c.TenantID, Variant: variantOf(sp, c.ID, id), UpdatedAt: now}
	}
	from := c.State
	if len(ids) > 0 {
		c.Cursor = ids[len(ids)-1]
	}
	c.Expanded = len(ids) < s.batch()
	c.UpdatedAt = now
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.AddCampaignRecipients(ctx, rs); err != nil {
			return err
		}
		return tx.UpdateCampaign(ctx, c, from)
	})
}

// variantOf places a contact in the A/B sample (a or b) or the rest, by a hash of
// the campaign and contact: stable across restarts, independent of order.
func variantOf(sp *Spec, campaignID, contactID string) string {
	if sp.AB == nil {
		return ""
	}
	h := fnv.New32a()
	h.Write([]byte(campaignID + "/" + contactID))
	v := h.Sum32()
	if int(v%100) >= sp.AB.Percent {
		return "rest"
	}
	if (v/100)%2 == 0 {
		return "a"
	}
	return "b"
}

// credit is how many messages the throttle allows now, and the credit time that
// taking them moves to. Credit never reaches back more than a minute (or one
// message): after downtime the campaign resumes its rate, not a burst.
func credit(c *store.Campaign, now time.Time) (int, func(n int) time.Time) {
	if c.Throttle <= 0 {
		return sendPerTick, func(int) time.Time { return now }
	}
	interval := time.Hour / time.Duration(c.Throttle)
	from := c.CreditAt
	if back := max(time.Minute, interval); now.Sub(from) > back {
		from = now.Add(-back)
	}
	n := int(now.Sub(from) / interval)
	return min(n, sendPerTick), func(n int) time.Time { return from.Add(time.Duration(n) * interval) }
}

// send stores the next pending recipients' messages, as many as the throttle allows.
func (s *Service) send(ctx context.Context, c *store.Campaign, sp *Spec, variants []string, now time.Time) (int, error) {
	allowed, next := credit(c, now)
	if allowed <= 0 {
		return 0, nil
	}
	pending, err := s.DB.PendingCampaignRecipients(ctx, c.ID, variants, allowed)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	if c.Throttle > 0 {
		// Claimed before sending: of several processes one wins this credit.
		at := next(len(pending))
		if err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.TakeCampaignCredit(ctx, c.ID, c.CreditAt, at) }); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return 0, nil
			}
			return 0, err
		}
		c.CreditAt = at
	}
	par := s.Parallel
	if par <= 0 {
		par = 64
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sent := 0
	work := make(chan *store.CampaignRecipient)
	for range min(par, len(pending)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				ok, err := s.sendOne(ctx, c, sp, r)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if ok {
					sent++
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range pending {
		work <- r
	}
	close(work)
	wg.Wait()
	if sent > 0 && s.Notify != nil {
		s.Notify()
	}
	return len(pending), firstErr
}

// sendOne builds one recipient's message and stores it, marking the recipient sent
// in the same transaction. A recipient the marketing rules refuse now (suppressed,
// consent revoked or expired, a field no longer allowed) is skipped with the reason.
func (s *Service) sendOne(ctx context.Context, c *store.Campaign, sp *Spec, r *store.CampaignRecipient) (bool, error) {
	v := r.Variant
	if v == "rest" {
		v = c.ABWinner
	}
	ct := sp.content(v)
	prep, err := s.Marketing.PrepareSend(ctx, c.TenantID, &marketing.SendInput{ContactID: r.ContactID, Kind: sp.Consent.Kind, Purpose: sp.Consent.Purpose,
		Subject: ct.Subject, Text: ct.Text, HTML: ct.HTML})
	var ie *marketing.InvalidError
	if errors.As(err, &ie) {
		return false, s.skip(ctx, c, r, skipReason(ie))
	} else if err != nil {
		return false, err
	}
	from, err := message.ParseAddress(sp.From)
	if err != nil {
		return false, s.skip(ctx, c, r, "invalid_message")
	}
	to, err := message.ParseAddress(prep.To)
	if err != nil {
		return false, s.skip(ctx, c, r, "invalid_address")
	}
	d := &message.Draft{From: from, To: []message.Address{to}, Subject: prep.Subject, Text: prep.Text, HTML: prep.HTML}
	for _, h := range prep.Headers {
		d.Headers = append(d.Headers, message.Header{Name: h[0], Value: h[1]})
	}
	now := s.now()
	sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: c.TenantID, KeyID: "campaign:" + c.ID}, Draft: d,
		Tags: sp.Tags, Campaign: c.ID, Track: sp.Track,
		Also: func(ctx context.Context, tx *store.Tx, messageID string) error {
			// Exactly once: the recipient leaves pending only with its message.
			if err := tx.MarkCampaignRecipient(ctx, c.ID, r.ContactID, "sent", "", messageID, now); err != nil {
				return err
			}
			return marketing.RecordSend(ctx, tx, c.TenantID, messageID, prep)
		}}
	_, err = s.Pipeline.Submit(ctx, sub)
	var pe *pipeline.Error
	switch {
	case errors.Is(err, store.ErrConflict):
		return false, nil // another process sent it
	case errors.As(err, &pe) && pe.Status < 500:
		// The policy blocked it or the message cannot be built for this contact:
		// nothing was stored; the campaign goes on.
		return false, s.skip(ctx, c, r, "rejected")
	case err != nil:
		return false, err
	}
	return true, nil
}

func (s *Service) skip(ctx context.Context, c *store.Campaign, r *store.CampaignRecipient, reason string) error {
	err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.MarkCampaignRecipient(ctx, c.ID, r.ContactID, "skipped", reason, "", s.now())
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// skipReason names why the marketing rules refused a recipient, from the fields the
// refusal points at: fixed words, never a value.
func skipReason(ie *marketing.InvalidError) string {
	for _, f := range ie.Fields {
		switch {
		case f.Field == "contact":
			return "no_contact"
		case f.Field == "marketing.contact":
			return "suppressed"
		case f.Field == "marketing.consent":
			return "no_consent"
		case strings.Contains(f.Field, "{{"):
			return "not_allowed"
		}
	}
	return "invalid"
}
