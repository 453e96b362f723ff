package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/render"
	"github.com/sealpost/sealpost/internal/store"
)

// Input creates a campaign.
type Input struct {
	Name string `json:"name"`
	Spec
}

// Content is a message's templates: {{field}} inserts a contact field the consent
// allows, {{email}}, {{unsubscribe_url}} and {{preferences_url}} the contact's own.
type Content struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// Spec is everything a campaign sends and to whom; it is sealed at rest.
type Spec struct {
	From string `json:"from"`
	Content
	// Lists and Segments are the audience: confirmed members of any list, and
	// contacts any segment matches. Suppressed contacts and contacts without a live
	// consent of Consent's kind and purpose are left out.
	Lists    []string        `json:"lists,omitempty"`
	Segments []string        `json:"segments,omitempty"`
	Consent  ConsentRef      `json:"consent"`
	Schedule Schedule        `json:"schedule,omitzero"`
	Throttle int             `json:"throttle_per_hour,omitempty"` // 0: no limit
	Track    *pipeline.Track `json:"track,omitempty"`
	AB       *AB             `json:"ab,omitempty"`
	Guards   Guards          `json:"guards,omitzero"`
	Tags     []string        `json:"tags,omitempty"`
}

// ConsentRef names the consent every recipient must have.
type ConsentRef struct {
	Kind    string `json:"kind"`              // default email_opt_in
	Purpose string `json:"purpose,omitempty"` // default marketing
}

// Schedule is when sending starts: a local date and time in an IANA time zone (or
// an RFC 3339 time with its offset). Empty: when the campaign is scheduled.
type Schedule struct {
	SendAt   string `json:"send_at,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
}

// when resolves the schedule to a UTC instant.
func (sc Schedule) when() (time.Time, error) {
	if sc.SendAt == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, sc.SendAt); err == nil {
		return t.UTC(), nil
	}
	loc := time.UTC
	if sc.TimeZone != "" {
		l, err := time.LoadLocation(sc.TimeZone)
		if err != nil {
			return time.Time{}, errors.New("time_zone")
		}
		loc = l
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, sc.SendAt, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("send_at")
}

// AB tests two variants of the content on a sample: Percent of the audience is split
// between A and B, and once the sample is sent and WaitFor has passed, the variant
// with more recipients who clicked — people only, as the tracking classifier tells
// them from proxies and scanners; opens are not counted — goes to the rest.
type AB struct {
	Percent  int        `json:"percent"`
	WaitFor  string     `json:"wait_for"`
	Variants [2]Content `json:"variants"` // each overrides the campaign's content where set
}

// Guards pause a running campaign when, over the window, complaints or bounces
// exceed a share of its delivered messages (once MinDelivered are delivered).
type Guards struct {
	ComplaintRate float64 `json:"complaint_rate,omitempty"` // default 0.003 (0.3 %)
	BounceRate    float64 `json:"bounce_rate,omitempty"`    // default 0.05
	Window        string  `json:"window,omitempty"`         // default 24h
	MinDelivered  int     `json:"min_delivered,omitempty"`  // default 100
}

func (g Guards) complaintRate() float64 { return orDefault(g.ComplaintRate, 0.003) }
func (g Guards) bounceRate() float64    { return orDefault(g.BounceRate, 0.05) }
func (g Guards) minDelivered() int {
	if g.MinDelivered > 0 {
		return g.MinDelivered
	}
	return 100
}
func (g Guards) window() time.Duration {
	if d, err := duration.ParsePositive(g.Window); err == nil {
		return d
	}
	return 24 * time.Hour
}

func orDefault(v, d float64) float64 {
	if v > 0 {
		return v
	}
	return d
}

// content returns what a recipient of variant v gets.
func (sp *Spec) content(v string) Content {
	c := sp.Content
	if sp.AB == nil {
		return c
	}
	i := 0
	if v == "b" {
		i = 1
	}
	o := sp.AB.Variants[i]
	if o.Subject != "" {
		c.Subject = o.Subject
	}
	if o.Text != "" {
		c.Text = o.Text
	}
	if o.HTML != "" {
		c.HTML = o.HTML
	}
	return c
}

var linkVars = []string{"email", "unsubscribe_url", "preferences_url"}

// check reports every problem of an input at once, each by its JSON path.
func (s *Service) check(ctx context.Context, tenantID string, in *Input) error {
	var fe []*FieldError
	add := func(path, detail string) { fe = append(fe, fieldErr(path, detail)) }
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 200 {
		add("name", "is required (at most 200 bytes)")
	}
	if a, err := message.ParseAddress(in.From); err != nil {
		add("from", "must be an email address")
	} else if ok, err := s.Tenants.SenderAllowed(ctx, tenantID, a.Domain()); err != nil {
		return err
	} else if !ok {
		add("from", "domain is not a verified sender domain of this account")
	}
	schema, err := s.Marketing.Schema(ctx, tenantID)
	if err != nil {
		return err
	}
	fields := map[string]bool{}
	for _, f := range schema {
		fields[f.Name] = true
	}
	checkContent := func(path string, c Content, required bool) {
		if required && c.Subject == "" {
			add(path+"subject", "is required")
		}
		if required && c.Text == "" && c.HTML == "" {
			add(path+"text", "text or html is required")
		}
		for _, p := range []struct{ name, src string }{{"subject", c.Subject}, {"text", c.Text}, {"html", c.HTML}} {
			if p.src == "" {
				continue
			}
			t, err := render.Parse(p.name, p.src)
			if err != nil {
				add(path+p.name, "is not a valid template")
				continue
			}
			for _, v := range t.Variables() {
				if !slices.Contains(linkVars, v) && !fields[v] {
					add(path+p.name+".{{"+v+"}}", "is not a contact field")
				}
			}
		}
	}
	checkContent("", in.Content, true)
	if len(in.Lists) == 0 && len(in.Segments) == 0 {
		add("lists", "name at least one list or segment")
	}
	for i, id := range in.Lists {
		if _, err := s.DB.MarketingList(ctx, tenantID, id); errors.Is(err, store.ErrNotFound) {
			add(fmt.Sprintf("lists[%d]", i), "no such list")
		} else if err != nil {
			return err
		}
	}
	for i, id := range in.Segments {
		if _, err := s.DB.Segment(ctx, tenantID, id); errors.Is(err, store.ErrNotFound) {
			add(fmt.Sprintf("segments[%d]", i), "no such segment")
		} else if err != nil {
			return err
		}
	}
	if in.Consent.Kind == "" {
		in.Consent.Kind = "email_opt_in"
	}
	if in.Consent.Purpose == "" {
		in.Consent.Purpose = "marketing"
	}
	if !slices.Contains(marketing.ConsentKinds, in.Consent.Kind) {
		add("consent.kind", "must be one of "+strings.Join(marketing.ConsentKinds, ", "))
	}
	if _, err := in.Schedule.when(); err != nil {
		if err.Error() == "time_zone" {
			add("schedule.time_zone", "must be an IANA time zone such as America/Chicago")
		} else {
			add("schedule.send_at", "must be a local time 2006-01-02T15:04 (with time_zone) or an RFC 3339 time")
		}
	}
	if in.Throttle < 0 || in.Throttle > 10_000_000 {
		add("throttle_per_hour", "must be between 0 (no limit) and 10000000")
	}
	if ab := in.AB; ab != nil {
		if ab.Percent < 2 || ab.Percent > 100 {
			add("ab.percent", "must be between 2 and 100")
		}
		if _, err := duration.ParsePositive(ab.WaitFor); err != nil {
			add("ab.wait_for", "must be a positive duration such as 4h")
		}
		if ab.Variants[0] == (Content{}) || ab.Variants[1] == (Content{}) {
			add("ab.variants", "both variants must change the subject, text or html")
		}
		for i, v := range ab.Variants {
			checkContent(fmt.Sprintf("ab.variants[%d].", i), v, false)
		}
	}
	g := in.Guards
	if g.ComplaintRate < 0 || g.ComplaintRate > 1 {
		add("guards.complaint_rate", "must be a share between 0 and 1 (0.003 is 0.3 %)")
	}
	if g.BounceRate < 0 || g.BounceRate > 1 {
		add("guards.bounce_rate", "must be a share between 0 and 1")
	}
	if g.Window != "" {
		if _, err := duration.ParsePositive(g.Window); err != nil {
			add("guards.window", "must be a positive duration such as 24h")
		}
	}
	if g.MinDelivered < 0 {
		add("guards.min_delivered", "must not be negative")
	}
	return invalid("Invalid campaign", fe)
}
