package portal

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Copy is a portal copy as the sender sees it.
type Copy struct {
	ID          string     `json:"id"`
	RecipientID string     `json:"recipient_id"`
	Email       string     `json:"email"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	State       string     `json:"state"`  // readable, expired, revoked, undelivered
	Access      string     `json:"access"` // code or passphrase
	Views       int        `json:"views"`
	LastViewed  *time.Time `json:"last_viewed_at,omitempty"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	Replies     int        `json:"replies"`
}

// ErrNotFound: no such message (for this tenant), or no such recipient of it.
var ErrNotFound = errors.New("not found")

// Actor is who asks, for the audit trail.
type Actor struct {
	Principal, Client string
}

type target struct {
	rcpt  *store.Recipient
	email string
}

// lookup is the tenant's keys and the recipients an API call acts on.
func (s *Service) lookup(ctx context.Context, tenantID, messageID, email string) (*tenant.Keys, []target, error) {
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	ts, err := s.targets(ctx, keys, tenantID, messageID, email)
	return keys, ts, err
}

// targets lists a tenant's message's recipients, or the one addressed as email.
func (s *Service) targets(ctx context.Context, keys *tenant.Keys, tenantID, messageID, email string) ([]target, error) {
	if _, err := s.db.Message(ctx, tenantID, messageID); errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	rcpts, err := s.db.Recipients(ctx, messageID)
	if err != nil {
		return nil, err
	}
	var want []byte
	if email != "" {
		want = keys.AddressHash(email)
	}
	var out []target
	for _, r := range rcpts {
		if want != nil && string(r.AddressHash) != string(want) {
			continue
		}
		addr, err := keys.Data.OpenString(r.Address, "recipient/"+r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, target{rcpt: r, email: addr})
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

// Copies lists a message's portal copies.
func (s *Service) Copies(ctx context.Context, tenantID, messageID string) ([]Copy, error) {
	_, ts, err := s.lookup(ctx, tenantID, messageID, "")
	if err != nil {
		return nil, err
	}
	emails := map[string]string{}
	for _, t := range ts {
		emails[t.rcpt.ID] = t.email
	}
	list, err := s.db.PortalMessages(ctx, tenantID, messageID)
	if err != nil {
		return nil, err
	}
	out := []Copy{}
	now := s.now()
	for _, p := range list {
		c := Copy{ID: p.ID, RecipientID: p.RecipientID, Email: emails[p.RecipientID], CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt,
			State: "readable", Access: "code", Views: p.Views}
		switch {
		case !p.RevokedAt.IsZero():
			c.State = "revoked"
		case p.DestroyedWhy == "undelivered":
			c.State = "undelivered"
		case !p.Readable(now):
			c.State = "expired"
		}
		if p.PassphraseHash != nil {
			c.Access = "passphrase"
		}
		if !p.LastViewedAt.IsZero() {
			c.LastViewed = &p.LastViewedAt
		}
		if p.LockedUntil.After(now) {
			c.LockedUntil = &p.LockedUntil
		}
		replies, err := s.db.PortalReplies(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		c.Replies = len(replies)
		out = append(out, c)
	}
	return out, nil
}

// Revoked is what revoking did for one recipient.
type Revoked struct {
	RecipientID string `json:"recipient_id"`
	Email       string `json:"email"`
	// Outcome: "revoked" (a portal copy's key destroyed), "cancelled" (not yet
	// delivered; it never will be), "already_revoked", "expired", or "delivered" (sent
	// by TLS or encryption: it is in the recipient's mailbox and cannot be withdrawn),
	// or "undelivered" (its portal notice never went out; the copy is already gone).
	Outcome string `json:"outcome"`
}

// Revoke withdraws a message from one recipient (email) or all: portal copies are
// destroyed and deliveries not yet made are cancelled, in one commit with their
// events and audit entries.
func (s *Service) Revoke(ctx context.Context, tenantID, messageID, email string, by Actor) ([]Revoked, error) {
	keys, ts, err := s.lookup(ctx, tenantID, messageID, email)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.rcpt.ID)
	}
	now := s.now()
	var out []Revoked
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		out = out[:0]
		cancelled, err := tx.CancelDeliveries(ctx, messageID, ids, now)
		if err != nil {
			return err
		}
		// The copies are read after the jobs are cancelled, in the same write: a
		// worker commits a copy before its notice only while the job exists (and
		// holds the job's row meanwhile), so every copy whose notice may still go
		// out is seen here, and none can appear after.
		copies, err := tx.PortalMessages(ctx, tenantID, messageID)
		if err != nil {
			return err
		}
		byRcpt := map[string]*store.PortalMessage{}
		for _, p := range copies {
			byRcpt[p.RecipientID] = p
		}
		for _, t := range ts {
			r := Revoked{RecipientID: t.rcpt.ID, Email: t.email, Outcome: "delivered"}
			if slices.Contains(cancelled, t.rcpt.ID) {
				r.Outcome = "cancelled"
				if err := tx.InsertEvents(ctx, &store.Event{TenantID: tenantID, MessageID: messageID, RecipientID: t.rcpt.ID, Type: "revoked", At: now}); err != nil {
					return err
				}
			}
			if p := byRcpt[t.rcpt.ID]; p != nil {
				done, err := tx.DestroyPortal(ctx, p, "revoked", now)
				if err != nil {
					return err
				}
				switch {
				case done:
					r.Outcome = "revoked"
					if err := s.record(ctx, tx, keys, p, "portal.revoked", by.Principal, by.Client, nil); err != nil {
						return err
					}
				case p.DestroyedWhy == "expired":
					r.Outcome = "expired"
				case p.DestroyedWhy == "undelivered":
					r.Outcome = "undelivered"
				default:
					r.Outcome = "already_revoked"
				}
			} else if r.Outcome == "delivered" {
				// Cancelled by an earlier or concurrent revocation, not delivered.
				st, err := tx.RecipientStatus(ctx, t.rcpt.ID)
				if err != nil {
					return err
				}
				if st == "revoked" {
					r.Outcome = "already_revoked"
				}
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// ExpiryError says why an expiry cannot be set.
type ExpiryError struct{ Detail string }

func (e *ExpiryError) Error() string { return e.Detail }

// SetExpiry moves the expiry of a message's readable portal copies (one recipient's,
// or all) to at, which must lie in the future and within the tenant's longest expiry
// counted from each copy's creation. It returns the copies changed.
func (s *Service) SetExpiry(ctx context.Context, tenantID, messageID, email string, at time.Time, by Actor) ([]Copy, error) {
	keys, ts, err := s.lookup(ctx, tenantID, messageID, email)
	if err != nil {
		return nil, err
	}
	_, max, err := s.bounds(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !at.After(now) {
		return nil, &ExpiryError{"must be in the future; to end access now, revoke"}
	}
	want := map[string]bool{}
	for _, t := range ts {
		want[t.rcpt.ID] = true
	}
	copies, err := s.db.PortalMessages(ctx, tenantID, messageID)
	if err != nil {
		return nil, err
	}
	var change []*store.PortalMessage
	for _, p := range copies {
		if !want[p.RecipientID] || !p.Readable(now) {
			continue
		}
		if at.After(p.CreatedAt.Add(max)) {
			return nil, &ExpiryError{"at most " + duration.Format(max) + " after the copy was made (" + p.CreatedAt.Add(max).UTC().Format(time.RFC3339) + ")"}
		}
		change = append(change, p)
	}
	if len(change) == 0 {
		return nil, &ExpiryError{"no readable portal copy to change"}
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, p := range change {
			if err := tx.SetPortalExpiry(ctx, p.ID, at); err != nil {
				return err
			}
			if err := s.record(ctx, tx, keys, p, "portal.expiry_changed", by.Principal, by.Client, map[string]any{"expires_at": at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	all, err := s.Copies(ctx, tenantID, messageID)
	if err != nil {
		return nil, err
	}
	var out []Copy
	for _, c := range all {
		for _, p := range change {
			if c.ID == p.ID {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
