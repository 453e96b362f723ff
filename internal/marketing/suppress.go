package marketing

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Suppression scopes. A marketing suppression never stops the transactional (often
// PHI-bearing) mail a patient needs; a transactional one is for addresses that must
// receive nothing (a hard bounce).
const (
	ScopeMarketing     = "marketing"
	ScopeTransactional = "transactional"
)

// Scopes lists the suppression scopes.
var Scopes = []string{ScopeMarketing, ScopeTransactional}

// Suppression reasons. "sunset" is the sunset policy's (SweepSunset).
var Reasons = []string{"unsubscribed", "hard_bounce", "complaint", "manual", ReasonSunset}

// ReasonSunset marks a contact suppressed for lack of human engagement.
const ReasonSunset = "sunset"

// Suppression is an entry as the API shows it.
type Suppression struct {
	Email     string    `json:"email"`
	Scope     string    `json:"scope"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func suppressionBinding(h []byte, scope string) string {
	return "suppression/" + hex.EncodeToString(h) + "/" + scope
}

func checkSuppression(address, reason, scope string) (string, error) {
	var fe []*FieldError
	email, err := normEmail(address)
	if err != nil {
		fe = append(fe, fieldErr("email", err.Error()))
	}
	if !slices.Contains(Reasons, reason) {
		fe = append(fe, fieldErr("reason", "must be one of "+strings.Join(Reasons, ", ")))
	}
	if !slices.Contains(Scopes, scope) {
		fe = append(fe, fieldErr("scope", "must be one of "+strings.Join(Scopes, ", ")))
	}
	return email, invalid("Invalid suppression", fe)
}

// Suppress adds an address to a tenant's suppression list in a scope. The SMTP
// gateway calls it for hard bounces and complaints; the API and CLI for manual
// entries; the unsubscribe page for one-click unsubscribes. An address already
// suppressed in the scope keeps its first reason.
func (s *Service) Suppress(ctx context.Context, tenantID, address, reason, scope string) error {
	return s.suppress(ctx, tenantID, address, reason, scope, nil)
}

func (s *Service) suppress(ctx context.Context, tenantID, address, reason, scope string, audit *store.AuditEntry) error {
	email, err := checkSuppression(address, reason, scope)
	if err != nil {
		return err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return err
	}
	now := s.now()
	h := k.AddressHash(email)
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.suppressTx(ctx, tx, tenantID, h, k.Data.SealString(email, suppressionBinding(h, scope)), reason, scope, audit, now)
	})
}

func (s *Service) suppressTx(ctx context.Context, tx *store.Tx, tenantID string, h, sealedEmail []byte, reason, scope string, audit *store.AuditEntry, now time.Time) error {
	added, err := tx.PutSuppression(ctx, &store.Suppression{TenantID: tenantID, EmailHash: h, Scope: scope, Reason: reason, Email: sealedEmail, CreatedAt: now})
	if err != nil || !added {
		return err
	}
	return audited(ctx, tx, audit, tenantID, "system", "marketing.suppression.add", "", scope+" "+reason, now)
}

// AddSuppression is Suppress for a request that carries its own audit entry.
func (s *Service) AddSuppression(ctx context.Context, tenantID, address, reason, scope string, audit *store.AuditEntry) error {
	return s.suppress(ctx, tenantID, address, reason, scope, audit)
}

// RemoveSuppression takes an address off the list in a scope.
func (s *Service) RemoveSuppression(ctx context.Context, tenantID, address, scope string, audit *store.AuditEntry) error {
	email, err := normEmail(address)
	if err != nil {
		return store.ErrNotFound
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteSuppression(ctx, tenantID, k.AddressHash(email), scope); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.suppression.remove", "", scope, now)
	})
}

// IsSuppressed reports why an address is suppressed in a scope ("" if it is not).
func (s *Service) IsSuppressed(ctx context.Context, tenantID, address, scope string) (string, error) {
	_, reason, err := s.suppressedIn(ctx, tenantID, address, scope)
	return reason, err
}

// suppressedIn reports the first of scopes, in order, in which an address is
// suppressed, and why; one query for them all.
func (s *Service) suppressedIn(ctx context.Context, tenantID, address string, scopes ...string) (scope, reason string, err error) {
	email, err := normEmail(address)
	if err != nil {
		return "", "", err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return "", "", err
	}
	return s.DB.SuppressedIn(ctx, tenantID, k.AddressHash(email), scopes...)
}

// Suppressions pages through a tenant's entries, newest first; before is a cursor
// (creation time in milliseconds).
func (s *Service) Suppressions(ctx context.Context, tenantID, scope string, before int64, limit int) ([]*Suppression, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	ss, err := s.DB.Suppressions(ctx, tenantID, scope, before, limit)
	if err != nil {
		return nil, err
	}
	out := []*Suppression{}
	for _, e := range ss {
		email, err := k.Data.OpenString(e.Email, suppressionBinding(e.EmailHash, e.Scope))
		if err != nil {
			return nil, err
		}
		out = append(out, &Suppression{Email: email, Scope: e.Scope, Reason: e.Reason, CreatedAt: e.CreatedAt})
	}
	return out, nil
}
