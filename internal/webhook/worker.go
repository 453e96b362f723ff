package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// WorkerOptions tune delivery.
type WorkerOptions struct {
	Owner       string        // this process's claim name
	Concurrency int           // deliveries in flight per process (default 32)
	PerEndpoint int           // … per endpoint (default 4)
	Poll        time.Duration // how often to look for due jobs (default 200 ms)
	Lease       time.Duration // a claimed job is retried after this if its process died (default 2 min)
}

func (o *WorkerOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.PerEndpoint <= 0 {
		o.PerEndpoint = 4
	}
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute // longer than one attempt's Timeout, several times over
	}
}

// Run delivers due webhook jobs until ctx ends, then waits for attempts in flight and
// releases what it still holds.
func (s *Service) Run(ctx context.Context, o WorkerOptions) {
	o.defaults()
	var wg sync.WaitGroup
	slots := make(chan struct{}, o.Concurrency)
	freed := make(chan struct{}, 1) // an attempt ended: a slot, and maybe an endpoint, is free
	var mu sync.Mutex
	busy := map[string]int{} // attempts in flight per endpoint
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for {
		started := 0
		if free := o.Concurrency - len(slots); free > 0 {
			// Endpoints at their limit are left out of the claim, so their jobs stay
			// where they are instead of being claimed and handed back.
			mu.Lock()
			var full []string
			for id, n := range busy {
				if n >= o.PerEndpoint {
					full = append(full, id)
				}
			}
			mu.Unlock()
			due, err := s.DB.HasDueWebhookJobs(ctx, s.now())
			if err == nil && due {
				// A small batch: jobs of one endpoint beyond its limit go back, and a
				// batch of twice the limit keeps that churn small.
				batch := min(free, 2*o.PerEndpoint)
				jobs, err := s.DB.ClaimWebhookJobs(ctx, o.Owner, s.now(), batch, o.Lease, full...)
				if err != nil && ctx.Err() == nil {
					s.Log.Error("claim webhook jobs", "err", err)
				}
				for _, j := range jobs {
					mu.Lock()
					over := busy[j.EndpointID] >= o.PerEndpoint
					if !over {
						busy[j.EndpointID]++
					}
					mu.Unlock()
					if over {
						// More of this endpoint's jobs came in one claim than it may
						// run at once: give the rest back, due now.
						s.putBack(ctx, j)
						continue
					}
					started++
					slots <- struct{}{}
					wg.Add(1)
					go func() {
						defer wg.Done()
						s.deliver(ctx, j)
						mu.Lock()
						if busy[j.EndpointID]--; busy[j.EndpointID] <= 0 {
							delete(busy, j.EndpointID)
						}
						mu.Unlock()
						<-slots
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
				}
				if started > 0 && len(jobs) == batch {
					continue // more may be due: look again at once
				}
			}
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, err := s.DB.ReleaseWebhookJobs(rctx, o.Owner, s.now()); err != nil {
				s.Log.Error("release webhook jobs", "err", err)
			}
			return
		case <-tick.C:
		case <-freed:
		}
	}
}

func (s *Service) putBack(ctx context.Context, j *store.WebhookJob) {
	if err := s.DB.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		return tx.PutBackWebhookJob(ctx, j, s.now().Add(50*time.Millisecond))
	}); err != nil {
		s.Log.Error("put back webhook job", "job", j.ID, "err", err)
	}
}

// deliver makes one attempt of one job and records it.
func (s *Service) deliver(ctx context.Context, j *store.WebhookJob) {
	// An attempt once started runs to its own timeout; shutdown waits for it, so its
	// outcome is recorded and a receiver never sees a cut-off request.
	ctx = context.WithoutCancel(ctx)
	drop := func() {
		if err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteWebhookJob(ctx, j.ID) }); err != nil {
			s.Log.Error("drop webhook job", "job", j.ID, "err", err)
		}
	}
	k, err := s.Tenants.Keys(ctx, j.TenantID)
	if errors.Is(err, tenant.ErrShredded) {
		drop()
		return
	}
	var p *prepared
	if err == nil {
		p, err = s.prepare(ctx, k, j.EndpointID)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.e.Enabled) {
		drop()
		return
	}
	var ev *store.Event
	var body []byte
	if err == nil {
		ev, err = s.DB.Event(ctx, j.TenantID, j.EventID)
	}
	if err == nil {
		var pl *Payload
		if pl, err = s.build(ctx, k, ev, p.e.IncludeAddress); err == nil {
			body, err = json.Marshal(pl)
		}
	}
	if err != nil {
		// Our side failed (database, keys): retry later without counting it against
		// the receiver.
		s.Log.Error("prepare webhook", "job", j.ID, "endpoint", j.EndpointID, "err", err)
		s.putBack(ctx, &store.WebhookJob{ID: j.ID, Attempts: j.Attempts})
		return
	}
	e, sg, u := p.e, p.sg, p.url
	now := s.now()
	// The id is the event's, the same on every retry and replay, so receivers can
	// drop repeats (Standard Webhooks: webhook-id is the idempotency key).
	id := "ev_" + strconv.FormatInt(ev.ID, 10)
	a := Post(ctx, s.Client, u, sg.Headers(id, now, body), body, s.now)
	rec := &store.WebhookAttempt{At: now, Status: a.Status, Latency: a.Latency, Error: a.Error}
	var next time.Time
	disable := ""
	switch {
	case a.OK():
		rec.Outcome = "delivered"
	case a.Gone():
		rec.Outcome, disable = "disabled", "answered 410 Gone"
	default:
		d, more := NextDelay(s.Retry, j.Attempts, a.RetryAfter)
		rec.Outcome, next = "retrying", now.Add(d)
		if !more {
			rec.Outcome = "failed"
		}
		limit := s.DisableAfter
		if limit <= 0 {
			limit = DisableAfter
		}
		if !e.FailingSince.IsZero() && now.Sub(e.FailingSince) >= limit {
			rec.Outcome, disable = "disabled", "every attempt failed for "+duration.Format(limit)
		}
	}
	if s.Metrics.Attempt != nil {
		s.Metrics.Attempt(rec.Outcome, a.Latency)
	}
	if disable != "" {
		defer s.forget(e.ID)
	}
	if err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.RecordWebhookAttempt(ctx, j, rec, next); err != nil {
			return err
		}
		if disable == "" {
			return nil
		}
		return s.disable(ctx, tx, k, e, disable, now)
	}); err != nil {
		s.Log.Error("record webhook attempt", "job", j.ID, "endpoint", j.EndpointID, "err", err)
	}
}

// disable switches an endpoint off, with an event on the tenant's timeline (other
// endpoints hear of it) and an audit entry.
func (s *Service) disable(ctx context.Context, tx *store.Tx, k *tenant.Keys, e *store.WebhookEndpoint, reason string, now time.Time) error {
	on, err := tx.DisableWebhookEndpoint(ctx, e.ID, reason, now)
	if err != nil || !on {
		return err
	}
	b, _ := json.Marshal(map[string]string{"endpoint_id": e.ID, "reason": reason})
	if err := tx.InsertEvents(ctx, &store.Event{TenantID: e.TenantID, Type: "webhook.disabled", At: now, Data: k.Data.Seal(b, "event/")}); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: now, TenantID: e.TenantID, Principal: "system", Action: "webhook.disabled", Object: e.ID, Result: "ok", Detail: reason})
}
