package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// EventInput is an API event: something happened to a contact ("refill_due"). The
// idempotency key names the event: delivered twice, it starts one run.
type EventInput struct {
	Contact        string `json:"contact"`
	Event          string `json:"event"`
	IdempotencyKey string `json:"idempotency_key"`
}

// EventResult is what an event did: one run per active journey it triggers.
type EventResult struct {
	Runs []*Run `json:"runs"`
	// Started is false when every run was already there (a repeated event, or the
	// contact already in each journey): nothing new happened.
	Started bool `json:"started"`
}

// entryKey is the keyed hash that makes one trigger start at most one run.
func entryKey(k *tenant.Keys, parts ...string) []byte {
	return k.Hash("journey-entry", strings.Join(parts, "\x00"))
}

// Trigger starts, in every active journey triggered by this event, a run for the
// contact — unless the idempotency key already started one (that run is answered)
// or the contact is already in a run of that journey (that run is answered; a
// contact is never in a journey twice at once).
func (s *Service) Trigger(ctx context.Context, tenantID string, in *EventInput) (*EventResult, error) {
	var fe []*FieldError
	if !eventName.MatchString(in.Event) {
		fe = append(fe, fieldErr("event", "1–100 letters, digits and _ . : -, starting with a letter or digit"))
	}
	if k := in.IdempotencyKey; k == "" || len(k) > 255 || strings.ContainsAny(k, "\r\n\x00") {
		fe = append(fe, fieldErr("idempotency_key", "required: 1–255 printable characters naming this event"))
	}
	if in.Contact == "" {
		fe = append(fe, fieldErr("contact", "required"))
	} else if _, err := s.Marketing.GetContact(ctx, tenantID, in.Contact); errors.Is(err, store.ErrNotFound) {
		fe = append(fe, fieldErr("contact", "no such contact"))
	} else if err != nil {
		return nil, err
	}
	if len(fe) > 0 {
		return nil, &InvalidError{Title: "Invalid event", Fields: fe}
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	js, err := s.DB.JourneysByEvent(ctx, tenantID, eventHash(k, in.Event))
	if err != nil {
		return nil, err
	}
	res := &EventResult{Runs: []*Run{}}
	for _, sj := range js {
		j, err := s.open(ctx, sj)
		if err != nil {
			return nil, err
		}
		r, started, err := s.start(ctx, j, in.Contact, entryKey(k, "event", in.IdempotencyKey))
		if err != nil {
			return nil, err
		}
		run := showRun(r, j.def)
		run.Started = started
		res.Started = res.Started || started
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

// start starts a run at the first step, due now, or finds the one that stands in its
// way.
func (s *Service) start(ctx context.Context, j *Journey, contactID string, key []byte) (*store.JourneyRun, bool, error) {
	var r *store.JourneyRun
	var started bool
	for try := 0; ; try++ {
		err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			r, started, err = s.startTx(ctx, tx, j, contactID, key)
			return err
		})
		// A conflict: another process started the run between our look and insert;
		// the next look finds it.
		if errors.Is(err, store.ErrConflict) && try < 2 {
			continue
		}
		return r, started, err
	}
}

func (s *Service) startTx(ctx context.Context, tx *store.Tx, j *Journey, contactID string, key []byte) (*store.JourneyRun, bool, error) {
	now := s.now()
	return tx.StartRun(ctx, &store.JourneyRun{ID: tenant.NewID("run"), JourneyID: j.ID, TenantID: j.tenantID, ContactID: contactID, EntryKey: key, DueAt: now, StartedAt: now})
}

// scanBatch is how many contacts a trigger scan takes at once.
const scanBatch = 500

// Scan starts the runs that date-field and segment triggers call for now: contacts
// whose date field plus the offset is today (once per contact and date), and
// contacts who entered a segment since the previous scan.
func (s *Service) Scan(ctx context.Context) (int, error) {
	n := 0
	for _, kind := range []string{TriggerDate, TriggerSegment} {
		js, err := s.DB.ActiveJourneys(ctx, kind)
		if err != nil {
			return n, err
		}
		for _, sj := range js {
			j, err := s.open(ctx, sj)
			if err != nil {
				return n, err
			}
			var m int
			if kind == TriggerDate {
				m, err = s.scanDate(ctx, j)
			} else {
				m, err = s.scanSegment(ctx, j)
			}
			n += m
			if err != nil {
				s.log().Warn("journey trigger scan", "journey", j.ID, "err", err)
			}
		}
	}
	return n, nil
}

func (s *Service) scanDate(ctx context.Context, j *Journey) (int, error) {
	t := j.def.Trigger
	// offset_days after the date is today: the date is today minus the offset.
	date := s.now().AddDate(0, 0, -t.OffsetDays).Format(time.DateOnly)
	filter, _ := json.Marshal(map[string]any{"field": t.DateField, "op": "eq", "value": date})
	return s.scanFilter(ctx, j, filter, func(tx *store.Tx, ids []string) ([]string, error) { return ids, nil }, "date", date)
}

func (s *Service) scanSegment(ctx context.Context, j *Journey) (int, error) {
	sg, err := s.Marketing.GetSegment(ctx, j.tenantID, j.def.Trigger.Segment)
	if err != nil {
		return 0, err
	}
	scan := s.now()
	n, err := s.scanFilter(ctx, j, sg.Filter, func(tx *store.Tx, ids []string) ([]string, error) {
		return tx.MarkMembers(ctx, j.ID, ids, scan)
	}, "segment", fmt.Sprint(scan.UnixMilli()))
	if err != nil {
		return n, err
	}
	return n, s.DB.ForgetLeavers(ctx, j.ID, scan)
}

// scanFilter walks a filter's members in batches; for each batch, pick chooses who
// enters (in the same write as their runs start, so a crash loses no entry).
func (s *Service) scanFilter(ctx context.Context, j *Journey, filter json.RawMessage, pick func(*store.Tx, []string) ([]string, error), kind, instance string) (int, error) {
	node, err := s.Marketing.Compile(ctx, j.tenantID, filter)
	if err != nil {
		return 0, err
	}
	k, err := s.Tenants.Keys(ctx, j.tenantID)
	if err != nil {
		return 0, err
	}
	n, after := 0, ""
	for {
		ids, err := s.DB.SegmentContactIDs(ctx, j.tenantID, node, after, scanBatch)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			in, err := pick(tx, ids)
			if err != nil {
				return err
			}
			for _, id := range in {
				key := entryKey(k, kind, id, instance)
				if _, started, err := s.startTx(ctx, tx, j, id, key); err != nil {
					return err
				} else if started {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		after = ids[len(ids)-1]
	}
}
