// Package campaign sends one marketing template to an audience (lists and segments):
// approved by a second person, started on a schedule in the sender's time zone,
// throttled, with an optional A/B test and guards that pause it when complaints or
// bounces rise. Recipients are expanded into the database in batches and each moves
// from pending to sent in the transaction that stores its message, so a restart
// neither sends twice nor skips; every recipient is checked against suppression and
// consent when its message is built and again when its delivery is claimed.
package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// States of a campaign.
const (
	Draft     = "draft"
	Approved  = "approved"
	Scheduled = "scheduled"
	Running   = "running"
	Paused    = "paused"
	Finished  = "finished"
	Cancelled = "cancelled"
)

// ErrNotFound: no such campaign for the tenant.
var ErrNotFound = store.ErrNotFound

// FieldError names one invalid input by its JSON path.
type FieldError = message.FieldError

// InvalidError carries every problem of one request; Status is 422 unless a rule
// says otherwise (409 for an action the campaign's state does not allow, 403 for an
// approval by its creator).
type InvalidError struct {
	Status int
	Title  string
	Fields []*FieldError
}

func (e *InvalidError) Error() string {
	if len(e.Fields) == 0 {
		return e.Title
	}
	return e.Fields[0].Field + ": " + e.Fields[0].Detail
}

func invalid(title string, fe []*FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return &InvalidError{Status: 422, Title: title, Fields: fe}
}

func fieldErr(field, detail string) *FieldError {
	return &FieldError{Field: field, Detail: detail, Status: 422}
}

func stateErr(action, state string) error {
	return &InvalidError{Status: 409, Title: "Not allowed in this state", Fields: []*FieldError{{Field: "state", Detail: "a " + state + " campaign cannot be " + action, Status: 409}}}
}

// Service is where campaign rules live; the API, CLI and dashboard call it, and Run
// is its scheduler.
type Service struct {
	DB        *store.DB
	Tenants   *tenant.Service
	Marketing *marketing.Service
	Pipeline  *pipeline.Pipeline
	Log       *slog.Logger
	// Now is the scheduler's clock (tests move it); nil is the wall clock.
	Now func() time.Time
	// Notify, if set, wakes the delivery worker after messages are stored.
	Notify func()
	// Tick is how often the scheduler looks for work when idle (default 1 s).
	Tick time.Duration
	// Batch is how many recipients one expansion transaction stores (default 500).
	Batch int
	// Parallel is how many messages are built and stored at once (default 64): their
	// commits share transactions, as concurrent API requests do.
	Parallel int

	wake chan struct{}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return 500
}

// Wake makes the scheduler look for work now (after an action or a clock change).
func (s *Service) Wake() {
	if s.wake == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Campaign is a campaign as the API shows it.
type Campaign struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	State        string    `json:"state"`
	CreatedBy    string    `json:"created_by"`
	ApprovedBy   string    `json:"approved_by,omitempty"`
	SendAt       time.Time `json:"send_at,omitzero"`
	PausedReason string    `json:"paused_reason,omitempty"`
	ABWinner     string    `json:"ab_winner,omitempty"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Spec
}

func binding(id, what string) string { return "campaign/" + id + "/" + what }

func (s *Service) open(k *tenant.Keys, c *store.Campaign) (*Campaign, *Spec, error) {
	name, err := k.Data.OpenString(c.Name, binding(c.ID, "name"))
	if err != nil {
		return nil, nil, err
	}
	raw, err := k.Data.Open(c.Spec, binding(c.ID, "spec"))
	if err != nil {
		return nil, nil, err
	}
	var sp Spec
	if err := json.Unmarshal(raw, &sp); err != nil {
		return nil, nil, err
	}
	return &Campaign{ID: c.ID, Name: name, State: c.State, CreatedBy: c.CreatedBy, ApprovedBy: c.ApprovedBy, SendAt: c.SendAt,
		PausedReason: c.PausedReason, ABWinner: c.ABWinner, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Spec: sp}, &sp, nil
}

// Create stores a draft campaign after checking every field; actor is who creates it
// (an API key's id, or user:<id> for a person), which approval compares against.
func (s *Service) Create(ctx context.Context, tenantID, actor string, in *Input, audit *store.AuditEntry) (*Campaign, error) {
	if err := s.check(ctx, tenantID, in); err != nil {
		return nil, err
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	id := tenant.NewID("cmp")
	spec, _ := json.Marshal(in.Spec)
	row := &store.Campaign{ID: id, TenantID: tenantID, Name: k.Data.SealString(in.Name, binding(id, "name")), Spec: k.Data.Seal(spec, binding(id, "spec")),
		State: Draft, CreatedBy: actor, Throttle: in.Throttle, CreatedAt: now, UpdatedAt: now}
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertCampaign(ctx, row); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, actor, "campaign.create", id, "", now)
	})
	if err != nil {
		return nil, err
	}
	c, _, err := s.open(k, row)
	return c, err
}

// audited appends the change's audit entry: the request's when given, else one that
// names the actor.
func audited(ctx context.Context, tx *store.Tx, e *store.AuditEntry, tenantID, actor, action, object, detail string, at time.Time) error {
	if e == nil {
		e = &store.AuditEntry{At: at, TenantID: tenantID, Principal: actor, Action: action, Result: "ok"}
	}
	if e.Object == "" {
		e.Object = object
	}
	if e.Detail == "" {
		e.Detail = detail
	}
	return tx.AppendAudit(ctx, e)
}

// Get returns one campaign.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*Campaign, error) {
	row, err := s.DB.Campaign(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	c, _, err := s.open(k, row)
	return c, err
}

// List returns a tenant's campaigns, newest first.
func (s *Service) List(ctx context.Context, tenantID string, limit int) ([]*Campaign, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.DB.Campaigns(ctx, tenantID, 0, limit)
	if err != nil {
		return nil, err
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*Campaign{}
	for _, r := range rows {
		c, _, err := s.open(k, r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// change applies fn to a campaign row and writes it with its audit entry, provided
// nobody changed its state meanwhile. fn returns the state error for an action the
// state does not allow.
func (s *Service) change(ctx context.Context, tenantID, id, actor, action string, audit *store.AuditEntry, fn func(c *store.Campaign, now time.Time) error) (*Campaign, error) {
	for range 3 {
		row, err := s.DB.Campaign(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		from := row.State
		now := s.now()
		if err := fn(row, now); err != nil {
			return nil, err
		}
		row.UpdatedAt = now
		err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.UpdateCampaign(ctx, row, from); err != nil {
				return err
			}
			return audited(ctx, tx, audit, tenantID, actor, "campaign."+action, id, from+" -> "+row.State, now)
		})
		if errors.Is(err, store.ErrConflict) {
			continue // the scheduler moved it; look again
		}
		if err != nil {
			return nil, err
		}
		s.Wake()
		return s.Get(ctx, tenantID, id)
	}
	return nil, &InvalidError{Status: 409, Title: "Changed meanwhile", Fields: []*FieldError{{Field: "state", Detail: "the campaign changed while this ran; try again", Status: 409}}}
}

// Approve records the second person's approval. The approver must be another
// credential or person than the one that created the campaign (and, by the route's
// scope, hold the marketing permission): one API key, or one person, cannot both
// write and approve a campaign.
func (s *Service) Approve(ctx context.Context, tenantID, id, actor string, audit *store.AuditEntry) (*Campaign, error) {
	return s.change(ctx, tenantID, id, actor, "approve", audit, func(c *store.Campaign, now time.Time) error {
		if c.State != Draft {
			return stateErr("approved", c.State)
		}
		if actor == c.CreatedBy {
			return &InvalidError{Status: 403, Title: "Approval by the creator", Fields: []*FieldError{{Field: "approved_by",
				Detail: "a campaign must be approved by another person or credential than the one that created it", Status: 403}}}
		}
		c.State, c.ApprovedBy = Approved, actor
		return nil
	})
}

// Schedule starts an approved campaign at its send time (now if it has none).
func (s *Service) Schedule(ctx context.Context, tenantID, id, actor string, audit *store.AuditEntry) (*Campaign, error) {
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, tenantID, id, actor, "schedule", audit, func(c *store.Campaign, now time.Time) error {
		if c.State != Approved {
			return stateErr("scheduled", c.State)
		}
		_, sp, err := s.open(k, c)
		if err != nil {
			return err
		}
		at, _ := sp.Schedule.when()
		if at.IsZero() || at.Before(now) {
			at = now
		}
		c.State, c.SendAt = Scheduled, at
		return nil
	})
}

// Pause stops sending until Resume; messages already handed to delivery go on.
func (s *Service) Pause(ctx context.Context, tenantID, id, actor string, audit *store.AuditEntry) (*Campaign, error) {
	return s.change(ctx, tenantID, id, actor, "pause", audit, func(c *store.Campaign, now time.Time) error {
		if c.State != Scheduled && c.State != Running {
			return stateErr("paused", c.State)
		}
		c.State, c.PausedReason = Paused, "manual"
		return nil
	})
}

// Resume continues a paused campaign. Sending credit restarts now: the pause is not
// made up for with a burst.
func (s *Service) Resume(ctx context.Context, tenantID, id, actor string, audit *store.AuditEntry) (*Campaign, error) {
	return s.change(ctx, tenantID, id, actor, "resume", audit, func(c *store.Campaign, now time.Time) error {
		if c.State != Paused {
			return stateErr("resumed", c.State)
		}
		c.PausedReason = ""
		if c.StartedAt.IsZero() {
			c.State = Scheduled
			return nil
		}
		c.State, c.CreditAt = Running, now
		return nil
	})
}

// Cancel ends a campaign for good: no further recipient is sent, and deliveries
// already queued are stopped when claimed (CheckDelivery).
func (s *Service) Cancel(ctx context.Context, tenantID, id, actor string, audit *store.AuditEntry) (*Campaign, error) {
	return s.change(ctx, tenantID, id, actor, "cancel", audit, func(c *store.Campaign, now time.Time) error {
		if c.State == Finished || c.State == Cancelled {
			return stateErr("cancelled", c.State)
		}
		c.State, c.FinishedAt = Cancelled, now
		return nil
	})
}
