package tenant

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/store"
)

var selectorPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// GenerateDKIM makes a new signing key for one of the tenant's domains, stores it
// sealed as the active key, and returns it with the DNS record to publish.
func (s *Service) GenerateDKIM(ctx context.Context, tenantID, domain, selector, algorithm string) (*store.DKIMKey, error) {
	name, err := NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Domain(ctx, tenantID, name); err != nil {
		return nil, fmt.Errorf("domain %s: %w", name, err)
	}
	// A new key gets a selector of its day unless the caller names one, so a
	// rotation never collides with the key it replaces.
	if selector == "" {
		selector = "sp" + time.Now().UTC().Format("20060102")
	}
	if algorithm == "" {
		algorithm = "rsa"
	}
	if !selectorPattern.MatchString(selector) {
		return nil, invalid("selector %q: use lowercase letters, digits and hyphens", selector)
	}
	if algorithm != "rsa" && algorithm != "ed25519" {
		return nil, invalid("algorithm %q: use rsa or ed25519", algorithm)
	}
	key, err := dkimsign.GenerateKey(algorithm)
	if err != nil {
		return nil, err
	}
	pem, err := dkimsign.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	rname, value, err := dkimsign.DNSRecord(selector, name, key.Public())
	if err != nil {
		return nil, err
	}
	k := &store.DKIMKey{Domain: name, Selector: selector, Algorithm: algorithm, DNSName: rname, DNSValue: value}
	if err := s.AddDKIMKey(ctx, tenantID, k, pem); err != nil {
		return nil, err
	}
	return k, nil
}
