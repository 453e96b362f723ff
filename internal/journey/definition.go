package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/strictjson"
)

// Definition is a journey as the tenant writes it (JSON):
//
//	{"name": "Refill reminders",
//	 "trigger": {"event": "refill_due"},                 // or {"date_field": "refill_on", "offset_days": -3}
//	                                                    // or {"segment": "seg_…"}
//	 "from": "care@clinic.example", "list": "lst_…", "consent": {"kind": "email_opt_in", "purpose": "marketing"},
//	 "steps": [
//	   {"id": "hello", "type": "send", "subject": "Hi {{first_name}}", "text": "…", "track": true},
//	   {"id": "pause", "type": "wait", "duration": "2d"},
//	   {"id": "check", "type": "branch", "if": {"clicked": {"step": "hello", "within": "3d"}}, "then": "thanks", "else": "nudge"},
//	   {"id": "nudge", "type": "send", "subject": "…", "text": "…"},
//	   {"id": "stop", "type": "exit"},
//	   {"id": "thanks", "type": "send", "subject": "…", "text": "…"}]}
//
// Steps run in order; a branch jumps forward to the step it names, an exit (or the
// end of the list) ends the run. Branches only jump forward, so every run takes each
// step at most once.
type Definition struct {
	Name    string   `json:"name"`
	Trigger Trigger  `json:"trigger"`
	From    string   `json:"from"`
	List    string   `json:"list,omitempty"`
	Topic   string   `json:"topic,omitempty"`
	Consent *Consent `json:"consent,omitempty"`
	Steps   []Step   `json:"steps"`
}

// Trigger says what starts a run: exactly one of an API event, a date field (a run
// starts offset_days after the contact's date, negative for before), or entering a
// saved segment.
type Trigger struct {
	Event      string `json:"event,omitempty"`
	DateField  string `json:"date_field,omitempty"`
	OffsetDays int    `json:"offset_days,omitempty"`
	Segment    string `json:"segment,omitempty"`
}

// Consent names the consent each send relies on (default email_opt_in for marketing).
type Consent struct {
	Kind    string `json:"kind"`
	Purpose string `json:"purpose"`
}

// Step is one step of a journey.
type Step struct {
	ID   string `json:"id"`
	Type string `json:"type"` // wait, send, branch, exit
	// wait
	Duration string `json:"duration,omitempty"`
	// send: templates over the contact's fields, as POST /v1/marketing/messages.
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
	Track   bool   `json:"track,omitempty"` // track opens and clicks (needed by a click branch)
	// branch
	If   *Condition `json:"if,omitempty"`
	Then string     `json:"then,omitempty"`
	Else string     `json:"else,omitempty"`
}

// Condition is what a branch asks: exactly one of a human click on a send's
// message, a portal view of it, or a filter over the contact's fields in the
// segment language ({"field": "score", "op": "gte", "value": 5}).
type Condition struct {
	Clicked      *Window         `json:"clicked,omitempty"`
	PortalViewed *Window         `json:"portal_viewed,omitempty"`
	Field        json.RawMessage `json:"field,omitempty"`
}

// Window names a send step (default: the last send before the branch) and how long
// after that send the branch waits for the click or view before taking "else".
type Window struct {
	Step   string `json:"step,omitempty"`
	Within string `json:"within"`
}

// Step types.
const (
	StepWait   = "wait"
	StepSend   = "send"
	StepBranch = "branch"
	StepExit   = "exit"
)

// Trigger kinds.
const (
	TriggerEvent   = "event"
	TriggerDate    = "date"
	TriggerSegment = "segment"
)

var (
	stepID    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	eventName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)
)

const maxSteps = 50

// Kind is the trigger's kind.
func (t Trigger) Kind() string {
	switch {
	case t.Event != "":
		return TriggerEvent
	case t.DateField != "":
		return TriggerDate
	default:
		return TriggerSegment
	}
}

// index returns the position of the step with this id, or -1.
func (d *Definition) index(id string) int {
	return slices.IndexFunc(d.Steps, func(s Step) bool { return s.ID == id })
}

// sendBefore is the send step a branch at i refers to: the one named, else the last
// send before it; -1 if none.
func (d *Definition) sendBefore(i int, named string) int {
	if named != "" {
		return d.index(named)
	}
	for j := i - 1; j >= 0; j-- {
		if d.Steps[j].Type == StepSend {
			return j
		}
	}
	return -1
}

// window returns the condition's window, if it waits on a message.
func (c *Condition) window() *Window {
	if c.Clicked != nil {
		return c.Clicked
	}
	return c.PortalViewed
}

// parse decodes a definition strictly and checks it against the tenant's audience,
// reporting every problem with its path.
func (s *Service) parse(ctx context.Context, tenantID string, raw []byte) (*Definition, error) {
	var d Definition
	if err := strictjson.Decode(raw, &d); err != nil {
		var se *strictjson.Error
		if !errors.As(err, &se) {
			return nil, err
		}
		var fe []*marketing.FieldError
		for _, p := range se.Problems {
			f := p.Field
			if f == "" {
				f = "definition"
			}
			fe = append(fe, fieldErr(f, p.Detail))
		}
		return nil, invalid(fe)
	}
	fe, err := s.check(ctx, tenantID, &d)
	if err != nil {
		return nil, err
	}
	if err := invalid(fe); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *Service) check(ctx context.Context, tenantID string, d *Definition) ([]*marketing.FieldError, error) {
	var fe []*marketing.FieldError
	bad := func(path, format string, a ...any) { fe = append(fe, fieldErr(path, fmt.Sprintf(format, a...))) }
	if n := strings.TrimSpace(d.Name); n == "" || len(n) > 200 {
		bad("name", "required, at most 200 characters")
	}
	if _, err := mail.ParseAddress(d.From); err != nil {
		bad("from", "want an email address on one of the tenant's domains")
	}
	if d.Consent != nil && !slices.Contains(marketing.ConsentKinds, d.Consent.Kind) {
		bad("consent.kind", "must be one of %s", strings.Join(marketing.ConsentKinds, ", "))
	}
	// The trigger: exactly one kind.
	t := d.Trigger
	set := 0
	for _, v := range []string{t.Event, t.DateField, t.Segment} {
		if v != "" {
			set++
		}
	}
	switch {
	case set != 1:
		bad("trigger", "want exactly one of event, date_field or segment")
	case t.Event != "" && !eventName.MatchString(t.Event):
		bad("trigger.event", "1–100 letters, digits and _ . : -, starting with a letter or digit")
	case t.DateField != "":
		if t.OffsetDays < -3650 || t.OffsetDays > 3650 {
			bad("trigger.offset_days", "between -3650 and 3650 (negative: days before the date)")
		}
		schema, err := s.Marketing.Schema(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(schema, func(f *marketing.Field) bool { return f.Name == t.DateField })
		switch {
		case i < 0:
			bad("trigger.date_field", "is not a contact field")
		case schema[i].Type != marketing.TypeDate:
			bad("trigger.date_field", "is a %s field; want a date field", schema[i].Type)
		case !schema[i].Filterable:
			bad("trigger.date_field", "must be filterable, so contacts can be found by it")
		}
	case t.Segment != "":
		if _, err := s.Marketing.GetSegment(ctx, tenantID, t.Segment); errors.Is(err, marketing.ErrNotFound) {
			bad("trigger.segment", "no such segment")
		} else if err != nil {
			return nil, err
		}
	}
	if t.Event == "" && t.DateField == "" && t.OffsetDays != 0 {
		bad("trigger.offset_days", "only with date_field")
	}
	if d.List != "" {
		if _, err := s.Marketing.GetList(ctx, tenantID, d.List); errors.Is(err, marketing.ErrNotFound) {
			bad("list", "no such list")
		} else if err != nil {
			return nil, err
		}
	}
	// The steps.
	if len(d.Steps) == 0 || len(d.Steps) > maxSteps {
		bad("steps", "want 1 to %d steps", maxSteps)
	}
	seen := map[string]bool{}
	for i, st := range d.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		if !stepID.MatchString(st.ID) {
			bad(p+".id", "1–40 lower-case letters, digits, _ and -")
		} else if seen[st.ID] {
			bad(p+".id", "%q is used by an earlier step", st.ID)
		}
		seen[st.ID] = true
		if st.Type != StepWait && st.Duration != "" {
			bad(p+".duration", "only for a wait step")
		}
		if st.Type != StepSend && st.Subject+st.Text+st.HTML != "" {
			bad(p, "subject, text and html are only for a send step")
		}
		if st.Type != StepBranch && (st.If != nil || st.Then != "" || st.Else != "") {
			bad(p, "if, then and else are only for a branch step")
		}
		switch st.Type {
		case StepWait:
			if _, err := duration.ParsePositive(st.Duration); err != nil {
				bad(p+".duration", "want a positive duration such as 2d, 12h or 30m")
			}
		case StepSend:
			if strings.TrimSpace(st.Subject) == "" {
				bad(p+".subject", "required")
			}
			if st.Text == "" && st.HTML == "" {
				bad(p+".text", "want text, html or both")
			}
		case StepBranch:
			fe = append(fe, s.checkBranch(ctx, tenantID, d, i, p)...)
		case StepExit:
		default:
			bad(p+".type", "one of wait, send, branch, exit")
		}
	}
	return fe, nil
}

func (s *Service) checkBranch(ctx context.Context, tenantID string, d *Definition, i int, p string) []*marketing.FieldError {
	var fe []*marketing.FieldError
	bad := func(path, format string, a ...any) { fe = append(fe, fieldErr(path, fmt.Sprintf(format, a...))) }
	st := d.Steps[i]
	for _, j := range []struct{ name, to string }{{"then", st.Then}, {"else", st.Else}} {
		if j.to == "" {
			continue // go on with the next step
		}
		// Forward only: a run then takes each step at most once, which is what makes
		// (run, step) a key.
		if k := d.index(j.to); k < 0 {
			bad(p+"."+j.name, "no step %q", j.to)
		} else if k <= i {
			bad(p+"."+j.name, "a branch may only jump forward, to a later step")
		}
	}
	c := st.If
	if c == nil {
		bad(p+".if", "required: clicked, portal_viewed or field")
		return fe
	}
	n := 0
	if c.Clicked != nil {
		n++
	}
	if c.PortalViewed != nil {
		n++
	}
	if len(c.Field) > 0 {
		n++
	}
	if n != 1 {
		bad(p+".if", "want exactly one of clicked, portal_viewed or field")
		return fe
	}
	if w := c.window(); w != nil {
		kind := "clicked"
		if c.PortalViewed != nil {
			kind = "portal_viewed"
		}
		if _, err := duration.ParsePositive(w.Within); err != nil {
			bad(p+".if."+kind+".within", "want a positive duration such as 3d or 12h")
		}
		j := d.sendBefore(i, w.Step)
		switch {
		case w.Step != "" && (j < 0 || d.Steps[j].Type != StepSend):
			bad(p+".if."+kind+".step", "no send step %q", w.Step)
		case j < 0:
			bad(p+".if."+kind, "no send step before this branch")
		case j >= i:
			bad(p+".if."+kind+".step", "must be a send step before this branch")
		case c.Clicked != nil && !d.Steps[j].Track:
			bad(p+".if.clicked.step", "the send %q does not track clicks: set \"track\": true on it", d.Steps[j].ID)
		}
		return fe
	}
	if _, err := s.Marketing.Compile(ctx, tenantID, c.Field); err != nil {
		var ie *marketing.InvalidError
		if !errors.As(err, &ie) {
			bad(p+".if.field", "cannot be checked now")
			return fe
		}
		for _, f := range ie.Fields {
			bad(p+".if.field"+strings.TrimPrefix(f.Field, "filter"), "%s", f.Detail)
		}
	}
	return fe
}

// waitFor is a wait step's duration (checked when the journey was saved).
func waitFor(st Step) time.Duration {
	d, _ := duration.ParsePositive(st.Duration)
	return d
}
