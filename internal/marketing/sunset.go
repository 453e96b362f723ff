package marketing

import (
	"context"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// MaxSunsetDays bounds the sunset policy: ten years.
const MaxSunsetDays = 3650

// sunsetBatch is how many contacts one sweep transaction suppresses.
const sunsetBatch = 500

// Sunset is a tenant's sunset policy as the API shows it.
type Sunset struct {
	// Days: contacts with no human engagement for this many days are suppressed for
	// marketing; 0 turns the policy off.
	Days int `json:"days"`
}

// GetSunset returns a tenant's sunset policy.
func (s *Service) GetSunset(ctx context.Context, tenantID string) (*Sunset, error) {
	d, err := s.DB.SunsetDays(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return &Sunset{Days: d}, nil
}

// SetSunset changes a tenant's sunset policy.
func (s *Service) SetSunset(ctx context.Context, tenantID string, in *Sunset, audit *store.AuditEntry) error {
	if in.Days < 0 || in.Days > MaxSunsetDays {
		return invalid("Invalid sunset policy", []*FieldError{fieldErr("days", fmt.Sprintf("must be a whole number of days from 1 to %d, or 0 to turn the policy off", MaxSunsetDays))})
	}
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutSunsetDays(ctx, tenantID, in.Days, now); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.sunset.set", "", fmt.Sprintf("%d days", in.Days), now)
	})
}

// SweepSunset applies a tenant's sunset policy now: every contact that was sent a
// marketing message more than N days ago and has had no human open or click on any
// marketing message in the last N days is suppressed for marketing with reason
// "sunset". Proxy and machine opens and clicks are not a person's engagement.
// Transactional mail is untouched. It returns how many contacts it suppressed; a
// second sweep finds none of them again. Each batch commits with one audit entry
// that carries its count (never an address).
func (s *Service) SweepSunset(ctx context.Context, tenantID string) (int, error) {
	days, err := s.DB.SunsetDays(ctx, tenantID)
	if err != nil || days <= 0 {
		return 0, err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	now := s.now()
	cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
	total, after := 0, ""
	for {
		cs, err := s.DB.SunsetCandidates(ctx, tenantID, cutoff, after, sunsetBatch)
		if err != nil || len(cs) == 0 {
			return total, err
		}
		after = cs[len(cs)-1].ID
		n := 0
		err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			n = 0
			for _, c := range cs {
				email, err := k.Data.OpenString(c.Email, binding(c.EmailHash, "email"))
				if err != nil {
					return err
				}
				added, err := tx.PutSuppression(ctx, &store.Suppression{TenantID: tenantID, EmailHash: c.EmailHash, Scope: ScopeMarketing, Reason: ReasonSunset,
					Email: k.Data.SealString(email, suppressionBinding(c.EmailHash, ScopeMarketing)), CreatedAt: now})
				if err != nil {
					return err
				}
				if added {
					n++
				}
			}
			if n == 0 {
				return nil
			}
			return audited(ctx, tx, nil, tenantID, "system", "marketing.sunset.suppress", "",
				fmt.Sprintf("%d contacts without human engagement for %d days suppressed for marketing", n, days), now)
		})
		if err != nil {
			return total, err
		}
		total += n
	}
}

// SweepAllSunsets applies every tenant's sunset policy.
func (s *Service) SweepAllSunsets(ctx context.Context) (int, error) {
	ps, err := s.DB.SunsetPolicies(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, p := range ps {
		n, err := s.SweepSunset(ctx, p.TenantID)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
