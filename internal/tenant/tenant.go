// Package tenant owns organisations, their sender domains, their API credentials and the
// per-tenant keys that seal their data.
package tenant

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
)

// InvalidError is a request the caller can fix; its text is safe to show.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InvalidError{fmt.Sprintf(format, a...)} }

// ErrShredded is returned for a tenant whose data key has been destroyed.
var ErrShredded = errors.New("tenant key destroyed: sealed data is unreadable")

// Service manages tenants. It caches unwrapped tenant keys in memory only.
type Service struct {
	db   *store.DB
	ring *seal.Keyring
	now  func() time.Time

	mu      sync.Mutex
	keys    map[string]*Keys
	auth    authCache
	senders senderCache
}

// New builds a Service over a database and a master keyring.
func New(db *store.DB, ring *seal.Keyring) *Service {
	return &Service{db: db, ring: ring, now: time.Now, keys: map[string]*Keys{}, auth: authCache{m: map[string]authEntry{}}}
}

// Keys are one tenant's working keys, derived from its data key.
type Keys struct {
	Data  *seal.DataKey
	index []byte
}

// AddressHash is a keyed hash of a normalised address: it lets events be filtered by
// recipient without storing the address in the clear, and differs per tenant.
func (k *Keys) AddressHash(addr string) []byte {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(addr))))
	return m.Sum(nil)[:16]
}

// Hash is a keyed hash for other lookups (idempotency keys).
func (k *Keys) Hash(kind, v string) []byte {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(kind + "\x00" + v))
	return m.Sum(nil)
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// NewID returns a time-ordered random id with a prefix ("msg", "rcp", …).
func NewID(prefix string) string {
	var b [16]byte
	t := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(t)
		t >>= 8
	}
	copy(b[6:], seal.RandomBytes(10))
	return prefix + "_" + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Create makes a tenant with a fresh data key wrapped by the primary master key.
func (s *Service) Create(ctx context.Context, name string) (*store.Tenant, error) {
	if !namePattern.MatchString(name) {
		return nil, invalid("tenant name %q: use 1-63 lowercase letters, digits and hyphens", name)
	}
	id := NewID("ten")
	mid, wrapped := s.ring.Wrap(seal.NewDataKeyBytes(), id)
	t := &store.Tenant{ID: id, Name: name, CreatedAt: s.now(), KeyMasterID: mid, KeyWrapped: wrapped}
	if err := s.db.CreateTenant(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, invalid("tenant %q already exists", name)
		}
		return nil, err
	}
	return t, nil
}

// Keys returns a tenant's working keys, unwrapping them once.
func (s *Service) Keys(ctx context.Context, tenantID string) (*Keys, error) {
	s.mu.Lock()
	k := s.keys[tenantID]
	s.mu.Unlock()
	if k != nil {
		return k, nil
	}
	t, err := s.db.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if t.Shredded {
		return nil, ErrShredded
	}
	raw, err := s.ring.Unwrap(t.KeyMasterID, t.KeyWrapped, t.ID)
	if err != nil {
		return nil, fmt.Errorf("unwrap key of tenant %s: %w", t.ID, err)
	}
	dk, err := seal.NewDataKey(raw)
	if err != nil {
		return nil, err
	}
	index, err := hkdf.Key(sha256.New, raw, nil, "sealpost index key", 32)
	if err != nil {
		return nil, err
	}
	k = &Keys{Data: dk, index: index}
	s.mu.Lock()
	s.keys[tenantID] = k
	s.mu.Unlock()
	return k, nil
}

// Shred destroys a tenant's data key. Everything sealed under it becomes unreadable,
// in this process at once and in others as soon as they reload the key.
func (s *Service) Shred(ctx context.Context, tenantID string) error {
	if err := s.db.ShredTenantKey(ctx, tenantID, s.now()); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.keys, tenantID)
	s.mu.Unlock()
	return nil
}

// Rewrap wraps every tenant key with the keyring's primary master key. The keyring must
// still hold the keys that wrapped them. Messages are not touched.
func Rewrap(ctx context.Context, db *store.DB, ring *seal.Keyring) (int, error) {
	return db.RewrapTenantKeys(ctx, func(t *store.Tenant) (string, []byte, error) {
		raw, err := ring.Unwrap(t.KeyMasterID, t.KeyWrapped, t.ID)
		if err != nil {
			return "", nil, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		id, w := ring.Wrap(raw, t.ID)
		return id, w, nil
	})
}

// Tenant loads a tenant by id or name.
func (s *Service) Tenant(ctx context.Context, idOrName string) (*store.Tenant, error) {
	return s.db.Tenant(ctx, idOrName)
}
