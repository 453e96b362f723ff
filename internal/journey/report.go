package journey

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/report"
)

// Report is a journey's counts per step.
type Report struct {
	Journey string           `json:"journey"`
	Runs    map[string]int64 `json:"runs"` // by state: active, done, stopped
	Steps   []StepReport     `json:"steps"`
}

// StepReport counts one step: how many runs took it, by outcome, and for a send the
// messages' delivery and human clicks from the statistics (label
// journey:<id>:<step>, the same groups /v1/stats?group_by=campaign shows).
type StepReport struct {
	Step     string           `json:"step"`
	Type     string           `json:"type"`
	Label    string           `json:"label,omitempty"`
	Entered  int64            `json:"entered"`
	Outcomes map[string]int64 `json:"outcomes"`
	// Sends only.
	Sent        int64 `json:"sent"`
	Delivered   int64 `json:"delivered"`
	HumanClicks int64 `json:"human_clicks"`
}

// Report counts a journey's runs and steps.
func (s *Service) Report(ctx context.Context, tenantID, id string) (*Report, error) {
	j, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	runs, err := s.DB.JourneyRunCounts(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	counts, err := s.DB.JourneyStepCounts(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	out := &Report{Journey: id, Runs: runs, Steps: make([]StepReport, len(j.def.Steps))}
	for i, st := range j.def.Steps {
		out.Steps[i] = StepReport{Step: st.ID, Type: st.Type, Outcomes: map[string]int64{}}
		if st.Type == StepSend {
			out.Steps[i].Label = Label(id, st.ID)
		}
	}
	for _, c := range counts {
		if c.Step >= len(out.Steps) {
			continue
		}
		sr := &out.Steps[c.Step]
		sr.Entered += c.Count
		sr.Outcomes[c.Outcome] += c.Count
		if c.Outcome == OutcomeSent {
			sr.Sent += c.Count
		}
	}
	if s.Reports == nil {
		return out, nil
	}
	// Rollups are kept by hour of the event, on the server's clock: from the hour
	// before the journey was made to the hour after now, at most the longest range.
	to := time.Now().Add(time.Hour)
	if n := s.now().Add(time.Hour); n.After(to) {
		to = n
	}
	from := j.CreatedAt.Add(-time.Hour)
	if to.Sub(from) > report.MaxRange {
		from = to.Add(-report.MaxRange)
	}
	st, err := s.Reports.Stats(ctx, tenantID, report.Query{From: from, To: to, GroupBy: "campaign"})
	if err != nil {
		return nil, err
	}
	byLabel := map[string]report.Counts{}
	for _, g := range st.Groups {
		byLabel[g.Label] = g.Totals
	}
	for i := range out.Steps {
		if c, ok := byLabel[out.Steps[i].Label]; ok && out.Steps[i].Label != "" {
			out.Steps[i].Delivered, out.Steps[i].HumanClicks = c.Delivered, c.Clicked
		}
	}
	return out, nil
}
