package journey

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tracking"
)

// Step outcomes, as journey_steps records them.
const (
	OutcomeSent    = "sent"
	OutcomeSkipped = "skipped" // the send was refused for this contact (consent, suppression): the run stops
	OutcomeWaited  = "waited"
	OutcomeYes     = "yes"
	OutcomeNo      = "no"
	OutcomeExit    = "exit"
)

const (
	claimBatch = 50
	// pollEvery is how often a branch waiting on a click or view looks again before
	// its window closes.
	pollEvery = 15 * time.Minute
)

// Label is the campaign label of a journey step's messages: /v1/stats?group_by=campaign
// reports each step apart.
func Label(journeyID, stepID string) string { return "journey:" + journeyID + ":" + stepID }

func (s *Service) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return time.Minute
}

// Tick claims the runs whose step is due and takes one step of each. It returns how
// many runs it claimed: a full batch means more may be waiting.
func (s *Service) Tick(ctx context.Context) (int, error) {
	runs, err := s.DB.ClaimRuns(ctx, s.Owner, s.now(), claimBatch, s.lease())
	if err != nil {
		return 0, err
	}
	for _, r := range runs {
		if err := s.take(ctx, r); err != nil {
			// The step did not happen: try again later, sooner for the first failures.
			wait := min(time.Duration(1)<<min(r.Attempts, 12)*time.Second, time.Hour)
			s.log().Warn("journey step failed", "journey", r.JourneyID, "run", r.ID, "step", r.Step, "attempt", r.Attempts, "err", err)
			if err := s.DB.ReleaseRun(ctx, r, s.Owner, s.now().Add(wait)); err != nil {
				s.log().Warn("journey release", "run", r.ID, "err", err)
			}
		}
	}
	return len(runs), nil
}

// Run takes due steps every second and scans date and segment triggers every
// scanEvery, until ctx ends.
func (s *Service) Run(ctx context.Context, scanEvery time.Duration) {
	if scanEvery <= 0 {
		scanEvery = time.Minute
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastScan time.Time
	for {
		if time.Since(lastScan) >= scanEvery {
			lastScan = time.Now()
			if _, err := s.Scan(ctx); err != nil && ctx.Err() == nil {
				s.log().Warn("journey scan", "err", err)
			}
		}
		for ctx.Err() == nil {
			n, err := s.Tick(ctx)
			if err != nil && ctx.Err() == nil {
				s.log().Warn("journey claim", "err", err)
			}
			if n < claimBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// take runs one step of a claimed run. Every outcome is written by AdvanceRun in one
// transaction with the step's effect, and only while the claim holds.
func (s *Service) take(ctx context.Context, r *store.JourneyRun) error {
	j, err := s.Get(ctx, r.TenantID, r.JourneyID)
	if err != nil {
		return err
	}
	d := j.def
	now := s.now()
	rec := &store.JourneyStep{RunID: r.ID, JourneyID: r.JourneyID, TenantID: r.TenantID, Step: r.Step, At: now}
	if r.Step >= len(d.Steps) {
		return s.advance(ctx, d, r, rec, -1, now, "")
	}
	st := d.Steps[r.Step]
	switch st.Type {
	case StepWait:
		rec.Outcome = OutcomeWaited
		return s.advance(ctx, d, r, rec, r.Step+1, now.Add(waitFor(st)), "")
	case StepExit:
		rec.Outcome = OutcomeExit
		return s.advance(ctx, d, r, rec, -1, now, "")
	case StepBranch:
		yes, until, err := s.decide(ctx, j, r, now)
		if err != nil {
			return err
		}
		if !until.IsZero() { // not decided yet: look again later, no step taken
			return s.advance(ctx, d, r, &store.JourneyStep{At: now}, r.Step, until, "")
		}
		next := st.Else
		rec.Outcome = OutcomeNo
		if yes {
			rec.Outcome, next = OutcomeYes, st.Then
		}
		to := r.Step + 1
		if next != "" {
			to = d.index(next)
		}
		return s.advance(ctx, d, r, rec, to, now, "")
	default:
		return s.send(ctx, j, r, rec)
	}
}

// advance writes a step's outcome and the run's new position; next past the last
// step (or negative) ends the run, done unless a reason says it stopped.
func (s *Service) advance(ctx context.Context, d *Definition, r *store.JourneyRun, rec *store.JourneyStep, next int, due time.Time, reason string) error {
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return advanceTx(ctx, tx, d, r, s.Owner, rec, next, due, reason)
	})
}

func advanceTx(ctx context.Context, tx *store.Tx, d *Definition, r *store.JourneyRun, owner string, rec *store.JourneyStep, next int, due time.Time, reason string) error {
	state := "done"
	if reason != "" {
		state, next = "stopped", -1
	}
	if next >= len(d.Steps) {
		next = -1
	}
	return tx.AdvanceRun(ctx, r, owner, rec, next, due, state, reason)
}

// send sends a step's message through the marketing checks and the pipeline. The
// message, the step's record and the run's advance are one transaction (the
// pipeline's Also): a crash before it commits leaves the run at this step with no
// message; after, at the next step with exactly one.
func (s *Service) send(ctx context.Context, j *Journey, r *store.JourneyRun, rec *store.JourneyStep) error {
	d, st := j.def, j.def.Steps[r.Step]
	in := &marketing.SendInput{ContactID: r.ContactID, ListID: d.List, TopicID: d.Topic, Subject: st.Subject, Text: st.Text, HTML: st.HTML}
	if d.Consent != nil {
		in.Kind, in.Purpose = d.Consent.Kind, d.Consent.Purpose
	}
	prep, err := s.Marketing.PrepareSend(ctx, r.TenantID, in)
	var ie *InvalidError
	if errors.As(err, &ie) {
		// Consent revoked, suppressed, off the list…: this contact gets nothing more
		// from the journey. The reason names the check, never a value.
		rec.Outcome = OutcomeSkipped
		return s.advance(ctx, d, r, rec, -1, rec.At, "not sendable: "+ie.Fields[0].Field+": "+ie.Fields[0].Detail)
	} else if err != nil {
		return err
	}
	from, err := message.ParseAddress(d.From)
	if err != nil {
		rec.Outcome = OutcomeSkipped
		return s.advance(ctx, d, r, rec, -1, rec.At, "not sendable: from: not a valid address")
	}
	draft := &message.Draft{From: from, To: []message.Address{{Addr: prep.To}}, Subject: prep.Subject, Text: prep.Text, HTML: prep.HTML}
	for _, h := range prep.Headers {
		draft.Headers = append(draft.Headers, message.Header{Name: h[0], Value: h[1]})
	}
	sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: r.TenantID, KeyID: "journey:" + j.ID}, Draft: draft,
		Tags: []string{"journey"}, Campaign: Label(j.ID, st.ID),
		Metadata: map[string]string{"journey_id": j.ID, "journey_step": st.ID, "journey_run": r.ID},
		Also: func(ctx context.Context, tx *store.Tx, id string) error {
			// Recorded as a marketing message, so the delivery queue re-checks the
			// contact's suppression and consent when it claims the message, as it does
			// for every marketing send.
			if err := marketing.RecordSend(ctx, tx, r.TenantID, id, prep); err != nil {
				return err
			}
			rec.Outcome, rec.MessageID = OutcomeSent, id
			return advanceTx(ctx, tx, d, r, s.Owner, rec, r.Step+1, rec.At, "")
		}}
	if st.Track {
		sub.Track = &pipeline.Track{Opens: true, Clicks: true}
	}
	_, err = s.Pipeline.Submit(ctx, sub)
	var pe *pipeline.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The claim ran out and another process has the run: it sends, not us.
		s.log().Warn("journey step lost its claim", "run", r.ID, "step", r.Step)
		return nil
	case errors.As(err, &pe) && pe.Status < 500:
		rec.Outcome, rec.MessageID = OutcomeSkipped, ""
		return s.advance(ctx, d, r, rec, -1, rec.At, "not accepted: "+pe.Title)
	case err != nil:
		return err
	}
	if s.Accepted != nil {
		s.Accepted()
	}
	return nil
}

// decide answers a branch: yes or no, or, for a click or view not seen yet whose
// window is still open, the time to look again.
func (s *Service) decide(ctx context.Context, j *Journey, r *store.JourneyRun, now time.Time) (bool, time.Time, error) {
	d := j.def
	c := d.Steps[r.Step].If
	if w := c.window(); w != nil {
		k := d.sendBefore(r.Step, w.Step)
		steps, err := s.DB.RunSteps(ctx, r.ID)
		if err != nil {
			return false, time.Time{}, err
		}
		var sent *store.JourneyStep
		for _, st := range steps {
			if st.Step == k && st.MessageID != "" {
				sent = st
			}
		}
		if sent == nil {
			return false, time.Time{}, nil // nothing was sent: nothing to click
		}
		typ := "clicked"
		if c.PortalViewed != nil {
			typ = "portal.viewed"
		}
		hit, err := s.hit(ctx, r.TenantID, sent.MessageID, typ)
		if err != nil || hit {
			return hit, time.Time{}, err
		}
		within, _ := duration.ParsePositive(w.Within)
		if end := sent.At.Add(within); now.Before(end) {
			return false, minTime(end, now.Add(pollEvery)), nil
		}
		return false, time.Time{}, nil
	}
	node, err := s.Marketing.Compile(ctx, r.TenantID, c.Field)
	var ie *InvalidError
	if errors.As(err, &ie) {
		return false, time.Time{}, nil // the schema changed under the filter: it matches no one
	} else if err != nil {
		return false, time.Time{}, err
	}
	has, err := s.DB.SegmentHas(ctx, r.TenantID, r.ContactID, node)
	return has, time.Time{}, err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// hit reports whether a message has an event of this type; for clicks, only a
// person's (tracking classes proxies and machines apart: a link scanner's click does
// not take the branch).
func (s *Service) hit(ctx context.Context, tenantID, messageID, typ string) (bool, error) {
	evs, err := s.DB.Events(ctx, store.EventFilter{TenantID: tenantID, MessageID: messageID, Types: []string{typ}, Limit: store.MaxPage})
	if err != nil {
		return false, err
	}
	if typ != "clicked" {
		return len(evs) > 0, nil
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return false, err
	}
	for _, ev := range evs {
		b, err := k.Data.Open(ev.Data, "event/"+ev.RecipientID)
		if err != nil {
			continue
		}
		var h struct {
			Class string `json:"class"`
		}
		if json.Unmarshal(b, &h) == nil && h.Class == tracking.Human {
			return true, nil
		}
	}
	return false, nil
}
