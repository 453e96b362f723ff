package tenant

import (
	"context"
	"errors"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
)

// InstanceName names the reserved scope the instance's operators belong to. It cannot
// be a tenant's name (names start with a letter or digit), so no tenant can be
// created, looked up or listed as it by accident; it holds people only, never mail.
const InstanceName = "_instance"

// Instance returns the reserved instance scope, making it on first use. Operators'
// rows live there, with their second factors sealed under its own key, so no query
// scoped to a real tenant can return an operator as one of its people.
func (s *Service) Instance(ctx context.Context) (*store.Tenant, error) {
	t, err := s.db.Tenant(ctx, InstanceName)
	if !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	id := NewID("ten")
	mid, wrapped := s.ring.Wrap(seal.NewDataKeyBytes(), id)
	t = &store.Tenant{ID: id, Name: InstanceName, CreatedAt: s.now(), KeyMasterID: mid, KeyWrapped: wrapped}
	err = s.db.CreateTenant(ctx, t)
	if errors.Is(err, store.ErrConflict) { // made at the same moment elsewhere
		return s.db.Tenant(ctx, InstanceName)
	}
	return t, err
}

// ValidName reports whether name may name a tenant, so a form can report every
// problem before anything is created.
func ValidName(name string) bool { return namePattern.MatchString(name) }
