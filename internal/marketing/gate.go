package marketing

import (
	"context"
	"errors"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

// RecordSend records, in the transaction that stores a marketing message, which contact and
// which consent it relies on: delivery reads it back to check them again (CheckDelivery).
func RecordSend(ctx context.Context, tx *store.Tx, tenantID, messageID string, p *Prepared) error {
	return tx.InsertMarketingMessage(ctx, &store.MarketingMessage{MessageID: messageID, TenantID: tenantID, ContactID: p.ContactID,
		Kind: p.Kind, Purpose: p.Purpose, Fields: joinNames(p.Fields)})
}

// Reasons CheckDelivery gives for stopping a marketing message: fixed words, never a
// value from the contact.
const (
	StopSuppressed = "suppressed"
	StopNoConsent  = "consent revoked or expired"
	StopFields     = "consent no longer allows the fields the message uses"
	StopNoContact  = "contact deleted"
)

// CheckDelivery is the re-check made when a delivery job is claimed: a message sent
// to a contact minutes or hours ago (a throttled campaign, a retried delivery, a
// journey step) goes out only if the address is still not suppressed and a live
// consent of the kind and purpose still allows every field the message used. It
// answers "" for a message that may go, including every message that is not
// marketing.
func (s *Service) CheckDelivery(ctx context.Context, tenantID, messageID string) (string, error) {
	reason, _, err := s.CheckMarketingDelivery(ctx, tenantID, messageID)
	return reason, err
}

// CheckMarketingDelivery is CheckDelivery that also says whether the message is
// marketing at all, so a caller adds its own checks only where they apply.
func (s *Service) CheckMarketingDelivery(ctx context.Context, tenantID, messageID string) (reason string, isMarketing bool, err error) {
	m, err := s.DB.MarketingMessageOf(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	if m.TenantID != tenantID {
		return "", false, nil
	}
	reason, err = s.recheck(ctx, tenantID, m)
	return reason, true, err
}

func (s *Service) recheck(ctx context.Context, tenantID string, m *store.MarketingMessage) (string, error) {
	c, err := s.GetContact(ctx, tenantID, m.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return StopNoContact, nil
	} else if err != nil {
		return "", err
	}
	if scope, _, err := s.suppressedIn(ctx, tenantID, c.Email, ScopeMarketing, ScopeTransactional); err != nil {
		return "", err
	} else if scope != "" {
		return StopSuppressed, nil
	}
	live, err := s.LiveConsent(ctx, tenantID, m.ContactID, m.Kind, m.Purpose)
	if err != nil {
		return "", err
	}
	if len(live) == 0 {
		return StopNoConsent, nil
	}
	for _, f := range splitNames(m.Fields) {
		ok := false
		for _, r := range live {
			ok = ok || strings.Contains(r.Fields, ","+f+",")
		}
		if !ok {
			return StopFields, nil
		}
	}
	return "", nil
}
