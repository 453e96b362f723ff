// Package journey owns drip sequences: journey definitions (a trigger and steps —
// wait, send, branch, exit), each contact's run through one with its position kept in
// the database, and the step engine that claims due runs and takes their steps so that
// a restart neither skips nor repeats one.
package journey

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// States of a journey. Only an active journey starts runs and takes their steps; a
// paused one keeps its runs where they are; an archived one is finished with.
const (
	Draft    = "draft"
	Active   = "active"
	Paused   = "paused"
	Archived = "archived"
)

// Submitter is the message pipeline: every journey send goes through it, as every
// marketing message does.
type Submitter interface {
	Submit(ctx context.Context, sub *pipeline.Submission) (*pipeline.Result, error)
}

// Service is the one place journey rules live; the API, the CLI, the dashboard and
// the engine call its methods.
type Service struct {
	DB        *store.DB
	Tenants   *tenant.Service
	Marketing *marketing.Service
	Pipeline  Submitter
	Reports   *report.Service
	Log       *slog.Logger
	// Now is the journeys' clock (waits, windows, dates); tests move it.
	Now func() time.Time
	// Owner names this process in claims; Lease is how long a claimed step is this
	// process's before another may take it (it must outlast one step: a database
	// commit, no network).
	Owner string
	Lease time.Duration
	// Accepted is told of every message a journey sends (the worker's wake-up).
	Accepted func()
}

// FieldError and InvalidError are marketing's, so every face reports them alike.
type (
	FieldError   = marketing.FieldError
	InvalidError = marketing.InvalidError
)

// ErrNotFound: the journey or run does not exist or is another tenant's.
var ErrNotFound = store.ErrNotFound

// ErrState is a state change the journey's state does not allow.
var ErrState = errors.New("journey: not allowed in its state")

func fieldErr(field, detail string) *FieldError {
	return &FieldError{Field: field, Detail: detail, Status: 422}
}

func invalid(fe []*FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return &InvalidError{Title: "Invalid journey", Fields: fe}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Clock is the journeys' current time.
func (s *Service) Clock() time.Time { return s.now() }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Journey is a journey as the API shows it.
type Journey struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	State      string          `json:"state"`
	Trigger    string          `json:"trigger"` // event, date, segment
	Definition json.RawMessage `json:"definition"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`

	def      *Definition
	tenantID string
}

func nameBinding(id string) string { return "journey/" + id + "/name" }
func defBinding(id string) string  { return "journey/" + id + "/definition" }

// eventHash is the keyed hash an event name is found by.
func eventHash(k *tenant.Keys, name string) []byte { return k.Hash("journey-event", name) }

// Create validates a definition (every problem with its path) and stores it as a
// draft.
func (s *Service) Create(ctx context.Context, tenantID string, raw json.RawMessage, audit *store.AuditEntry) (*Journey, error) {
	d, err := s.parse(ctx, tenantID, raw)
	if err != nil {
		return nil, err
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	canon, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	now := s.now()
	j := &store.Journey{ID: tenant.NewID("jny"), TenantID: tenantID, State: Draft, TriggerKind: d.Trigger.Kind(), CreatedAt: now, UpdatedAt: now}
	j.Name = k.Data.SealString(d.Name, nameBinding(j.ID))
	j.Definition = k.Data.Seal(canon, defBinding(j.ID))
	if d.Trigger.Event != "" {
		j.TriggerHash = eventHash(k, d.Trigger.Event)
	}
	if audit != nil {
		audit.Object = j.ID
	}
	if err := s.DB.CreateJourney(ctx, j, audit); err != nil {
		return nil, err
	}
	return &Journey{ID: j.ID, Name: d.Name, State: j.State, Trigger: j.TriggerKind, Definition: canon, CreatedAt: now, UpdatedAt: now, def: d, tenantID: tenantID}, nil
}

func (s *Service) open(ctx context.Context, j *store.Journey) (*Journey, error) {
	k, err := s.Tenants.Keys(ctx, j.TenantID)
	if err != nil {
		return nil, err
	}
	name, err := k.Data.OpenString(j.Name, nameBinding(j.ID))
	if err != nil {
		return nil, err
	}
	raw, err := k.Data.Open(j.Definition, defBinding(j.ID))
	if err != nil {
		return nil, err
	}
	var d Definition
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return &Journey{ID: j.ID, Name: name, State: j.State, Trigger: j.TriggerKind, Definition: raw, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, def: &d, tenantID: j.TenantID}, nil
}

// Get loads one journey.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*Journey, error) {
	j, err := s.DB.Journey(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, j)
}

// List lists a tenant's journeys after a cursor id.
func (s *Service) List(ctx context.Context, tenantID, after string, limit int) ([]*Journey, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	js, err := s.DB.Journeys(ctx, tenantID, after, limit)
	if err != nil {
		return nil, err
	}
	out := []*Journey{}
	for _, j := range js {
		o, err := s.open(ctx, j)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// transitions say which states each action may leave.
var transitions = map[string][]string{
	Active:   {Draft, Paused},
	Paused:   {Active},
	Archived: {Draft, Active, Paused},
}

// SetState activates, pauses or archives a journey. Runs keep their position when
// paused and go on from it when the journey is active again; an archived journey
// starts and moves nothing.
func (s *Service) SetState(ctx context.Context, tenantID, id, state string, audit *store.AuditEntry) (*Journey, error) {
	from, ok := transitions[state]
	if !ok {
		return nil, invalid([]*FieldError{fieldErr("state", "one of active, paused, archived")})
	}
	if _, err := s.DB.Journey(ctx, tenantID, id); err != nil {
		return nil, err
	}
	if audit != nil {
		audit.Object = id
	}
	if err := s.DB.SetJourneyState(ctx, tenantID, id, state, from, s.now(), audit); errors.Is(err, store.ErrNotFound) {
		return nil, ErrState
	} else if err != nil {
		return nil, err
	}
	return s.Get(ctx, tenantID, id)
}

// Run is a contact's run as the API shows it.
type Run struct {
	ID        string     `json:"id"`
	Journey   string     `json:"journey"`
	Contact   string     `json:"contact"`
	State     string     `json:"state"`            // active, done, stopped
	Step      string     `json:"step,omitempty"`   // the step it waits at (active runs)
	DueAt     *time.Time `json:"due_at,omitempty"` // when that step is due
	Reason    string     `json:"reason,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	Steps     []RunStep  `json:"steps,omitempty"`
	// Started is false when the trigger found this run already there (the same
	// idempotency key, or the contact already in the journey).
	Started bool `json:"started"`
}

// RunStep is one step a run took.
type RunStep struct {
	Step      string    `json:"step"`
	Outcome   string    `json:"outcome"`
	MessageID string    `json:"message_id,omitempty"`
	At        time.Time `json:"at"`
}

func showRun(r *store.JourneyRun, d *Definition) *Run {
	out := &Run{ID: r.ID, Journey: r.JourneyID, Contact: r.ContactID, State: r.State, Reason: r.Reason, StartedAt: r.StartedAt}
	if r.State == "active" {
		if d != nil && r.Step < len(d.Steps) {
			out.Step = d.Steps[r.Step].ID
		}
		due := r.DueAt
		out.DueAt = &due
	}
	return out
}

// GetRun loads one run with the steps it took.
func (s *Service) GetRun(ctx context.Context, tenantID, id string) (*Run, error) {
	r, err := s.DB.JourneyRun(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	j, err := s.Get(ctx, tenantID, r.JourneyID)
	if err != nil {
		return nil, err
	}
	out := showRun(r, j.def)
	steps, err := s.DB.RunSteps(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range steps {
		id := ""
		if st.Step < len(j.def.Steps) {
			id = j.def.Steps[st.Step].ID
		}
		out.Steps = append(out.Steps, RunStep{Step: id, Outcome: st.Outcome, MessageID: st.MessageID, At: st.At})
	}
	return out, nil
}

// Runs lists a journey's runs after a cursor id.
func (s *Service) Runs(ctx context.Context, tenantID, journeyID, after string, limit int) ([]*Run, error) {
	j, err := s.Get(ctx, tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rs, err := s.DB.JourneyRuns(ctx, tenantID, journeyID, after, limit)
	if err != nil {
		return nil, err
	}
	out := []*Run{}
	for _, r := range rs {
		out = append(out, showRun(r, j.def))
	}
	return out, nil
}
