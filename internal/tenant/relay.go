package tenant

import (
	"context"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

// Relay proofs. Google Workspace and Microsoft 365 relay every customer's mail from the
// same addresses with the same certificates, so the connecting host proves nothing: a
// relayed message is a tenant's only when its sender domain is the tenant's verified
// domain and it carries a proof only that tenant can give — a DKIM signature by that
// domain under a selector the tenant registered here, or a client certificate pinned
// to the tenant.

// Relay proof kinds.
const (
	RelayDKIM = "dkim"
	RelayCert = "cert"
)

var selectorRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// AddRelayProof registers a proof for one of the tenant's verified domains.
func (s *Service) AddRelayProof(ctx context.Context, tenantID, domain, kind, value string) (*store.RelayProof, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	d, err := s.db.Domain(ctx, tenantID, domain)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !d.Verified) {
		return nil, invalid("%s is not a verified domain of this account", domain)
	}
	if err != nil {
		return nil, err
	}
	switch kind {
	case RelayDKIM:
		if len(value) > 253 || !selectorRE.MatchString(value) {
			return nil, invalid("a DKIM selector is one or more DNS labels")
		}
	case RelayCert:
		value = strings.ToLower(strings.ReplaceAll(value, ":", ""))
		if b, err := hex.DecodeString(value); err != nil || len(b) != 32 {
			return nil, invalid("a certificate pin is the SHA-256 of the DER certificate, in hex")
		}
	default:
		return nil, invalid("kind must be dkim or cert")
	}
	p := &store.RelayProof{ID: NewID("rly"), TenantID: tenantID, Domain: domain, Kind: kind, Value: value, CreatedAt: s.now()}
	if err := s.db.AddRelayProof(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// RelayProofs lists a tenant's proofs.
func (s *Service) RelayProofs(ctx context.Context, tenantID string) ([]*store.RelayProof, error) {
	return s.db.RelayProofs(ctx, tenantID, "")
}

// DeleteRelayProof removes a proof of a tenant.
func (s *Service) DeleteRelayProof(ctx context.Context, tenantID, id string) error {
	return s.db.DeleteRelayProof(ctx, tenantID, id)
}

// RelayOwner returns the tenant whose verified domain domain is, with the proofs it
// registered for it; ErrNotFound when no tenant may relay for the domain.
func (s *Service) RelayOwner(ctx context.Context, domain string) (string, []*store.RelayProof, error) {
	domain = strings.ToLower(domain)
	proofs, err := s.db.RelayProofs(ctx, "", domain)
	if err != nil {
		return "", nil, err
	}
	for _, p := range proofs {
		// A proof counts only while its tenant still holds the domain, verified.
		d, err := s.db.Domain(ctx, p.TenantID, domain)
		if err == nil && d.Verified {
			var mine []*store.RelayProof
			for _, q := range proofs {
				if q.TenantID == p.TenantID {
					mine = append(mine, q)
				}
			}
			return p.TenantID, mine, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", nil, err
		}
	}
	return "", nil, store.ErrNotFound
}
