package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sealpost/sealpost/internal/mailauth"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Message is an inbound message as an administrator sees it: metadata and verdict,
// never the content.
type Message struct {
	ID        string            `json:"id"`
	Domain    string            `json:"domain_id"`
	Status    string            `json:"status"`
	Reasons   []string          `json:"reasons"`
	Size      int64             `json:"size"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Attempts  int               `json:"attempts"`
	LastError string            `json:"last_error,omitempty"`
	Envelope  Envelope          `json:"envelope"`
	Verdict   *mailauth.Verdict `json:"verdict"`
}

// ErrNotHeld is returned when a release or delete finds the message no longer in
// quarantine (released, deleted or forwarded already).
var ErrNotHeld = errors.New("the message is not in quarantine")

// List returns a tenant's inbound messages, newest first; status "" lists all.
func (s *Service) List(ctx context.Context, tenantID, status, before string, limit int) ([]*Message, error) {
	rows, err := s.db.InboundMessages(ctx, store.InboundFilter{TenantID: tenantID, Status: status, Before: before, Limit: limit})
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*Message, 0, len(rows))
	for _, m := range rows {
		v, err := view(keys.Data, m)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns one of a tenant's inbound messages.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*Message, error) {
	m, err := s.db.InboundMessage(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return view(keys.Data, m)
}

func view(k *seal.DataKey, m *store.InboundMessage) (*Message, error) {
	v := &Message{ID: m.ID, Domain: m.DomainID, Status: m.Status, Reasons: m.Reasons, Size: m.Size, CreatedAt: m.CreatedAt,
		UpdatedAt: m.UpdatedAt, Attempts: m.Attempts, LastError: m.LastError, Verdict: &mailauth.Verdict{}}
	if v.Reasons == nil {
		v.Reasons = []string{}
	}
	env, err := k.Open(m.Envelope, "inbound/"+m.ID+"/envelope")
	if err != nil {
		return nil, err
	}
	verdict, err := k.Open(m.Verdict, "inbound/"+m.ID+"/verdict")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(env, &v.Envelope); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(verdict, v.Verdict); err != nil {
		return nil, err
	}
	return v, nil
}

// Release lets a held message go: it is forwarded like one that passed. The status
// change, the event and the audit entry commit together.
func (s *Service) Release(ctx context.Context, tenantID, id, principal, client string) error {
	return s.decide(ctx, tenantID, id, store.InboundQueued, "inbound.released", principal, client)
}

// Delete ends a held message without forwarding it and purges its content.
func (s *Service) Delete(ctx context.Context, tenantID, id, principal, client string) error {
	return s.decide(ctx, tenantID, id, store.InboundDeleted, "inbound.deleted", principal, client)
}

func (s *Service) decide(ctx context.Context, tenantID, id, to, event, principal, client string) error {
	if _, err := s.db.InboundMessage(ctx, tenantID, id); err != nil {
		return err
	}
	now := s.now()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SetInboundStatus(ctx, tenantID, id, store.InboundQuarantined, to, nil, "", now, now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrNotHeld
			}
			return err
		}
		if err := tx.InsertEvents(ctx, &store.Event{TenantID: tenantID, MessageID: id, Type: event, At: now}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, TenantID: tenantID, Principal: principal, Action: event, Object: id, Result: "ok", Client: client})
	})
	if err == nil && to == store.InboundQueued {
		s.Notify()
	}
	return err
}

func newID() string { return tenant.NewID("inm") }
