package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/store"
)

// Forwarder hands a message for one recipient to a smart host.
type Forwarder interface {
	Forward(ctx context.Context, smartHost string, env delivery.Envelope, msg io.Reader) (*delivery.Result, error)
}

// Clients forwards through the delivery package's SMTP client, one per smart host so
// each keeps its warm connections. Every envelope demands verified TLS: mail that
// reached us encrypted must not leave in the clear or to an unauthenticated server.
type Clients struct {
	Base delivery.Config // resolver, roots, HELO name, timeouts; SmartHost is set per host
	mu   sync.Mutex
	m    map[string]*delivery.Client
}

var _ Forwarder = (*Clients)(nil)

// Forward sends msg to env.To through smartHost over verified TLS.
func (c *Clients) Forward(ctx context.Context, smartHost string, env delivery.Envelope, msg io.Reader) (*delivery.Result, error) {
	c.mu.Lock()
	cl := c.m[smartHost]
	if cl == nil {
		cfg := c.Base
		cfg.SmartHost, cfg.SmartHostUser, cfg.SmartHostPassword, cfg.SmartHostImplicitTLS = smartHost, "", "", false
		cl = delivery.New(cfg)
		if c.m == nil {
			c.m = map[string]*delivery.Client{}
		}
		c.m[smartHost] = cl
	}
	c.mu.Unlock()
	env.RequireTLS = true
	return cl.Deliver(ctx, env, msg)
}

// Close ends the idle connections.
func (c *Clients) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.m {
		cl.Close()
	}
}

// Run forwards queued messages until ctx ends. A message's attempt is counted and its
// next one scheduled when it is claimed, so a crash retries it after the lease.
func (s *Service) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			s.running.Wait()
			return
		case <-timer.C:
		case <-s.wake:
		}
		ms, err := s.db.ClaimInbound(ctx, s.cfg.Owner, s.now(), 8, s.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			s.log.Error("claim inbound messages", "err", err)
		}
		for _, m := range ms {
			s.running.Add(1)
			go func() {
				defer s.running.Done()
				// The attempt may finish after ctx: what reached DATA is recorded.
				s.forward(context.WithoutCancel(ctx), m)
			}()
		}
		s.running.Wait()
		next := time.Second
		if len(ms) > 0 {
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

// forward tries each pending recipient once and records the outcome.
func (s *Service) forward(ctx context.Context, m *store.InboundMessage) {
	log := s.log.With("inbound_message", m.ID, "tenant", m.TenantID, "attempt", m.Attempts)
	keys, err := s.tenants.Keys(ctx, m.TenantID)
	if err != nil {
		log.Error("forward: tenant keys", "err", err)
		return // retried after the lease
	}
	envRaw, err := keys.Data.Open(m.Envelope, "inbound/"+m.ID+"/envelope")
	if err != nil {
		log.Error("forward: envelope cannot be opened", "err", err)
		return
	}
	var env Envelope
	if err := json.Unmarshal(envRaw, &env); err != nil {
		log.Error("forward: envelope cannot be read", "err", err)
		return
	}
	raw, err := keys.Data.Open(m.Content, "inbound/"+m.ID+"/content")
	if err != nil {
		log.Error("forward: content cannot be opened", "err", err)
		return
	}
	now := s.now()
	d, err := s.db.InboundDomain(ctx, m.TenantID, m.DomainID)
	var lastErr string
	var failed []string
	var delivered int
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The domain is no longer protected: there is nowhere to forward to.
		failed, env.Pending, lastErr = env.Pending, nil, "the domain is no longer protected"
	case err != nil:
		log.Error("forward: domain lookup", "err", err)
		return
	}
	var pending []string
	for _, rc := range env.Pending {
		res, err := s.out.Forward(ctx, d.SmartHost, delivery.Envelope{From: env.MailFrom, To: rc}, bytes.NewReader(raw))
		var de *delivery.Error
		switch {
		case err == nil:
			delivered++
			log.Info("inbound forwarded", "smart_host", d.SmartHost, "tls", res.TLS != nil && res.TLS.Verified)
		case errors.As(err, &de) && !de.Temporary:
			failed = append(failed, rc)
			lastErr = de.Error()
		default:
			pending = append(pending, rc)
			lastErr = err.Error()
		}
	}
	env.Pending = pending
	sealedEnv, _ := json.Marshal(env)
	expired := now.After(m.CreatedAt.Add(s.cfg.Expire))
	to, next := store.InboundQueued, now.Add(s.cfg.Retry[min(max(m.Attempts-1, 0), len(s.cfg.Retry)-1)])
	var events []string
	if delivered > 0 {
		events = append(events, "inbound.forwarded")
	}
	switch {
	case len(pending) == 0 && len(failed) == 0:
		to = store.InboundForwarded
	case len(pending) == 0 || expired:
		to = store.InboundFailed
		events = append(events, "inbound.failed")
	default:
		events = append(events, "inbound.deferred")
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SetInboundStatus(ctx, m.TenantID, m.ID, store.InboundQueued, to, keys.Data.Seal(sealedEnv, "inbound/"+m.ID+"/envelope"), lastErr, now, next); err != nil {
			return err
		}
		var evs []*store.Event
		for _, t := range events {
			evs = append(evs, &store.Event{TenantID: m.TenantID, MessageID: m.ID, Type: t, At: now})
		}
		return tx.InsertEvents(ctx, evs...)
	})
	if err != nil {
		// The lease runs out and the message is tried again: a recipient already
		// forwarded may get a second copy, never none.
		log.Error("forward: outcome not recorded", "err", err)
		return
	}
	log.Info("inbound forwarding recorded", "status", to, "pending", len(pending), "failed", len(failed))
}
