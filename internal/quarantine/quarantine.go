// Package quarantine decides what happens to a message the policy held for review:
// released to its recipients or deleted unsent. The API and the dashboard both act
// through it, so the rule and the events it records exist once.
package quarantine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// ErrNotQuarantined is an action on a message that is not (or no longer) held.
var ErrNotQuarantined = errors.New("quarantine: only a quarantined message can be released or deleted")

// Service releases and deletes quarantined messages.
type Service struct {
	DB *store.DB
	// OnAccepted wakes the delivery worker after a release.
	OnAccepted func()
	Now        func() time.Time
}

// New makes the service; onAccepted may be nil.
func New(db *store.DB, onAccepted func()) *Service {
	if onAccepted == nil {
		onAccepted = func() {}
	}
	return &Service{DB: db, OnAccepted: onAccepted, Now: time.Now}
}

// Release lets a quarantined message go, each recipient by the default secure methods,
// recording a "released" event per recipient in the same transaction.
func (s *Service) Release(ctx context.Context, tenantID, messageID string) error {
	if err := s.act(ctx, tenantID, messageID, "released", s.DB.ReleaseQuarantine); err != nil {
		return err
	}
	s.OnAccepted()
	return nil
}

// Delete ends a quarantined message without delivery and purges its content,
// recording a "deleted" event per recipient in the same transaction.
func (s *Service) Delete(ctx context.Context, tenantID, messageID string) error {
	return s.act(ctx, tenantID, messageID, "deleted", s.DB.DeleteQuarantined)
}

// List is the tenant's quarantined messages, live and sandbox, newest first.
func (s *Service) List(ctx context.Context, tenantID string, limit int) ([]*store.Message, error) {
	yes := true
	var out []*store.Message
	for _, sandbox := range []bool{false, true} {
		ms, err := s.DB.SearchMessages(ctx, store.MessageFilter{TenantID: tenantID, Sandbox: sandbox, Quarantined: &yes, Limit: limit})
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	// Ids grow with time, so the greatest id is the newest.
	slices.SortFunc(out, func(a, b *store.Message) int { return strings.Compare(b.ID, a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

type actFunc func(ctx context.Context, tenantID, messageID string, now time.Time, fn func(context.Context, *store.Tx) error) error

func (s *Service) act(ctx context.Context, tenantID, id, event string, act actFunc) error {
	m, err := s.DB.Message(ctx, tenantID, id)
	if err != nil {
		return err
	}
	if !m.Quarantined {
		return ErrNotQuarantined
	}
	rcpts, err := s.DB.Recipients(ctx, id)
	if err != nil {
		return err
	}
	now := s.Now()
	err = act(ctx, tenantID, id, now, func(ctx context.Context, tx *store.Tx) error {
		for _, rc := range rcpts {
			if err := tx.InsertEvents(ctx, &store.Event{TenantID: tenantID, MessageID: id, RecipientID: rc.ID, Type: event, At: now, Sandbox: m.Sandbox}); err != nil {
				return err
			}
		}
		return nil
	})
	// The conditional update found no held message: another request released or
	// deleted it between the read and the write.
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotQuarantined
	}
	return err
}
