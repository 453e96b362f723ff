package secureline

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/pgpmime"
	"github.com/sealpost/sealpost/internal/smime"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Key kinds.
const (
	KindPGP   = "pgp"
	KindSMIME = "smime"
)

// KeyInfo describes a registered recipient key; never the key material's secrets
// (there are none: these are public keys), but the address is PHI and is only shown
// to the tenant that registered it.
type KeyInfo struct {
	ID          string    `json:"id"`
	Kind        string    `json:"type"`
	Email       string    `json:"email"`
	Fingerprint string    `json:"fingerprint"`
	Algorithm   string    `json:"algorithm,omitempty"`
	Source      string    `json:"source"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	Usable      bool      `json:"usable"`
	Reason      string    `json:"reason,omitempty"` // why it is not usable
}

// keyData is the sealed part of a stored key.
type keyData struct {
	Key         []byte `json:"key"`
	Fingerprint string `json:"fingerprint"`
	Algorithm   string `json:"algorithm,omitempty"`
}

// KeyError is a key that cannot be registered; the API answers 422.
type KeyError struct{ Field, Msg string }

func (e *KeyError) Error() string { return e.Msg }

// parsedKey is a key parsed and checked for an address.
type parsedKey struct {
	pgp     *pgpmime.Key
	cert    *x509.Certificate
	fp, alg string
	expires time.Time
	problem error // why it must not be used now
}

func parseKey(kind, addr string, data []byte, now time.Time) (*parsedKey, error) {
	switch kind {
	case KindPGP:
		k, err := pgpmime.ParseKey(data)
		if err != nil {
			return nil, err
		}
		return &parsedKey{pgp: k, fp: k.Fingerprint, alg: k.Algorithm, expires: k.Expires, problem: k.Check(addr, now)}, nil
	case KindSMIME:
		c, err := smime.ParseCertificate(data)
		if err != nil {
			return nil, err
		}
		return &parsedKey{cert: c, fp: smime.Fingerprint(c), alg: c.PublicKeyAlgorithm.String(), expires: c.NotAfter,
			problem: smime.CheckCertificate(c, addr, now)}, nil
	}
	return nil, fmt.Errorf("unknown key type %q", kind)
}

// AddKey registers a recipient's key. An unusable key (expired, revoked, weak, for
// another address) is refused with the reason.
func (s *Service) AddKey(ctx context.Context, tenantID, kind, email string, data []byte, source string) (*KeyInfo, error) {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return nil, &KeyError{"email", "required"}
	case kind == "":
		return nil, &KeyError{"type", `required: "pgp" or "smime"`}
	case kind != KindPGP && kind != KindSMIME:
		return nil, &KeyError{"type", `must be "pgp" or "smime"`}
	case len(bytes.TrimSpace(data)) == 0:
		return nil, &KeyError{"key", "required: an armored OpenPGP public key or a PEM certificate"}
	}
	pk, err := parseKey(kind, email, data, s.now())
	if err != nil {
		return nil, &KeyError{"key", "cannot be read: " + err.Error()}
	}
	if pk.problem != nil {
		return nil, &KeyError{"key", "cannot be used: " + pk.problem.Error()}
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	sealed, _ := json.Marshal(keyData{Key: data, Fingerprint: pk.fp, Algorithm: pk.alg})
	k := &store.RecipientKey{ID: tenant.NewID("rk"), TenantID: tenantID, Kind: kind, AddressHash: keys.AddressHash(email),
		Source: source, ExpiresAt: pk.expires, CreatedAt: s.now()}
	k.Address = keys.Data.SealString(email, "recipient-key/"+tenantID+"/address")
	k.Data = keys.Data.Seal(sealed, "recipient-key/"+tenantID+"/data")
	id, err := s.db.PutRecipientKey(ctx, k)
	if err != nil {
		return nil, err
	}
	return &KeyInfo{ID: id, Kind: kind, Email: email, Fingerprint: pk.fp, Algorithm: pk.alg, Source: source, ExpiresAt: pk.expires, CreatedAt: k.CreatedAt, Usable: true}, nil
}

// Key describes one of a tenant's keys, checked as of now.
func (s *Service) Key(ctx context.Context, tenantID, id string) (*KeyInfo, error) {
	k, err := s.db.RecipientKey(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	info, _, err := s.describe(keys, k)
	return info, err
}

// Keys lists a tenant's keys, optionally for one address.
func (s *Service) Keys(ctx context.Context, tenantID, email, after string, limit int) ([]*KeyInfo, error) {
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var hash []byte
	if email != "" {
		hash = keys.AddressHash(email)
	}
	rows, err := s.db.RecipientKeys(ctx, tenantID, hash, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*KeyInfo, 0, len(rows))
	for _, k := range rows {
		info, _, err := s.describe(keys, k)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// DeleteKey removes a key.
func (s *Service) DeleteKey(ctx context.Context, tenantID, id string) error {
	return s.db.DeleteRecipientKey(ctx, tenantID, id)
}

func (s *Service) describe(keys *tenant.Keys, k *store.RecipientKey) (*KeyInfo, *parsedKey, error) {
	email, err := keys.Data.OpenString(k.Address, "recipient-key/"+k.TenantID+"/address")
	if err != nil {
		return nil, nil, err
	}
	b, err := keys.Data.Open(k.Data, "recipient-key/"+k.TenantID+"/data")
	if err != nil {
		return nil, nil, err
	}
	var d keyData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, nil, err
	}
	info := &KeyInfo{ID: k.ID, Kind: k.Kind, Email: email, Fingerprint: d.Fingerprint, Algorithm: d.Algorithm, Source: k.Source,
		ExpiresAt: k.ExpiresAt, CreatedAt: k.CreatedAt}
	pk, err := parseKey(k.Kind, email, d.Key, s.now())
	if err != nil {
		info.Reason = "cannot be read: " + err.Error()
		return info, nil, nil
	}
	if pk.problem != nil {
		info.Reason = pk.problem.Error()
		return info, pk, nil
	}
	info.Usable = true
	return info, pk, nil
}

// usableKey finds the recipient's key of a kind that can be used now; why says what
// is missing or wrong when there is none. With a Web Key Directory configured, a PGP
// key not registered is looked up there and remembered.
func (s *Service) usableKey(ctx context.Context, keys *tenant.Keys, tenantID, kind, addr string) (*parsedKey, string) {
	k, err := s.db.FindRecipientKey(ctx, tenantID, kind, keys.AddressHash(addr))
	if errors.Is(err, store.ErrNotFound) {
		if kind == KindPGP && s.cfg.WKD != nil {
			return s.wkdKey(ctx, keys, tenantID, addr)
		}
		return nil, "no " + kindName(kind) + " registered for the recipient"
	}
	if err != nil {
		return nil, "key lookup failed"
	}
	info, pk, err := s.describe(keys, k)
	if err != nil || pk == nil {
		return nil, "stored key cannot be read"
	}
	if !info.Usable {
		return nil, kindName(kind) + " " + info.Fingerprint + " not usable: " + info.Reason
	}
	return pk, ""
}

func (s *Service) wkdKey(ctx context.Context, keys *tenant.Keys, tenantID, addr string) (*parsedKey, string) {
	// The cache key holds the keyed hash, never the address.
	cacheKey := fmt.Sprintf("wkd-miss:%s:%x", tenantID, keys.AddressHash(addr))
	if _, miss := s.db.CacheGet(ctx, cacheKey, s.now()); miss {
		return nil, "no OpenPGP key registered or published in the recipient's Web Key Directory"
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, raw, err := s.cfg.WKD.Lookup(lctx, addr)
	if err != nil {
		if errors.Is(err, pgpmime.ErrNotFound) {
			_ = s.db.CachePut(ctx, cacheKey, []byte("1"), s.now().Add(time.Hour))
		}
		return nil, "no OpenPGP key registered, and Web Key Directory lookup failed"
	}
	if _, err := s.AddKey(ctx, tenantID, KindPGP, addr, raw, "wkd"); err != nil {
		return nil, "Web Key Directory key not usable: " + err.Error()
	}
	pk, _ := parseKey(KindPGP, addr, raw, s.now())
	return pk, ""
}

func kindName(kind string) string {
	if kind == KindPGP {
		return "OpenPGP key"
	}
	return "S/MIME certificate"
}
