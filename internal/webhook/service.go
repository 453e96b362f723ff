package webhook

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// FieldError names one invalid setting by its JSON path.
type FieldError = message.FieldError

// Service manages a tenant's endpoints and delivers their events. The API and the CLI
// call the same methods, so every rule lives here once.
type Service struct {
	DB      *store.DB
	Tenants *tenant.Service
	Client  *http.Client
	// Loopback allows http:// endpoints on loopback (sealpost dev); the client must
	// then allow loopback addresses too.
	Loopback bool
	Log      *slog.Logger
	Now      func() time.Time
	Metrics  Metrics
	// Retry is the wait after each failed attempt; nil is the specification's Schedule.
	Retry []time.Duration
	// DisableAfter is how long an endpoint may fail every attempt; 0 is DisableAfter.
	DisableAfter time.Duration

	mu    sync.Mutex
	ready map[string]*prepared // per endpoint, for cacheTTL
	keys  map[string]ed25519.PrivateKey
}

// prepared is what sending to one endpoint needs, opened once and kept briefly: a
// delivery then costs no database reads for its endpoint, secrets or keys.
type prepared struct {
	e   *store.WebhookEndpoint
	url string
	sg  Signer
	at  time.Time
}

// cacheTTL bounds how stale a prepared endpoint may be in another process after a
// change; in this process a change drops it at once.
const cacheTTL = time.Second

func (s *Service) forget(id string) {
	s.mu.Lock()
	delete(s.ready, id)
	s.mu.Unlock()
}

// prepare returns an endpoint ready to send to.
func (s *Service) prepare(ctx context.Context, k *tenant.Keys, id string) (*prepared, error) {
	now := s.now()
	s.mu.Lock()
	p := s.ready[id]
	s.mu.Unlock()
	if p != nil && now.Sub(p.at) < cacheTTL {
		return p, nil
	}
	e, err := s.DB.WebhookEndpoint(ctx, "", id)
	if err != nil {
		return nil, err
	}
	sg, err := s.signer(ctx, k, e)
	if err != nil {
		return nil, err
	}
	u, err := k.Data.Open(e.URL, "webhook/"+e.ID+"/url")
	if err != nil {
		return nil, err
	}
	p = &prepared{e: e, url: string(u), sg: sg, at: now}
	s.mu.Lock()
	if s.ready == nil {
		s.ready = map[string]*prepared{}
	}
	s.ready[id] = p
	s.mu.Unlock()
	return p, nil
}

// Metrics observes deliveries; the fields may be nil. Labels never name a tenant.
type Metrics struct {
	Attempt func(outcome string, latency time.Duration)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Endpoint is an endpoint as callers see it: opened, never with its secret.
type Endpoint struct {
	ID             string     `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description,omitempty"`
	Types          []string   `json:"types"` // ["*"]: every type
	Enabled        bool       `json:"enabled"`
	IncludeAddress bool       `json:"include_address"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
}

// Spec is what a caller sets on an endpoint; nil fields keep their value on update.
type Spec struct {
	URL            *string   `json:"url,omitempty"`
	Types          *[]string `json:"types,omitempty"`
	Description    *string   `json:"description,omitempty"`
	Enabled        *bool     `json:"enabled,omitempty"`
	IncludeAddress *bool     `json:"include_address,omitempty"`
}

func (s *Service) validate(sp *Spec, creating bool) []*FieldError {
	var fe []*FieldError
	bad := func(field, detail string) { fe = append(fe, &FieldError{Field: field, Detail: detail, Status: 422}) }
	switch {
	case sp.URL == nil && creating:
		bad("url", "required")
	case sp.URL != nil:
		if err := CheckURL(*sp.URL, s.Loopback); err != nil {
			bad("url", err.Error())
		}
	}
	if sp.Types != nil {
		if len(*sp.Types) == 0 {
			bad("types", `list at least one event type, or "*" for all`)
		}
		for i, t := range *sp.Types {
			if t != "*" && !slices.Contains(Types, t) {
				bad("types["+strconv.Itoa(i)+"]", "unknown event type (valid: *, "+strings.Join(Types, ", ")+")")
			}
		}
		if slices.Contains(*sp.Types, "*") && len(*sp.Types) > 1 {
			bad("types", `"*" already takes every type; list it alone`)
		}
	}
	if sp.Description != nil && (utf8.RuneCountInString(*sp.Description) > 500 || strings.ContainsAny(*sp.Description, "\x00")) {
		bad("description", "at most 500 characters, no NUL")
	}
	return fe
}

func (s *Service) view(k *tenant.Keys, e *store.WebhookEndpoint) (*Endpoint, error) {
	u, err := k.Data.Open(e.URL, "webhook/"+e.ID+"/url")
	if err != nil {
		return nil, err
	}
	v := &Endpoint{ID: e.ID, URL: string(u), Types: e.Types, Enabled: e.Enabled, IncludeAddress: e.IncludeAddress,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, DisabledReason: e.DisabledReason}
	if len(e.Types) == 0 {
		v.Types = []string{"*"}
	}
	if len(e.Description) > 0 {
		d, err := k.Data.Open(e.Description, "webhook/"+e.ID+"/description")
		if err != nil {
			return nil, err
		}
		v.Description = string(d)
	}
	if !e.FailingSince.IsZero() {
		t := e.FailingSince
		v.FailingSince = &t
	}
	return v, nil
}

func apply(k *tenant.Keys, e *store.WebhookEndpoint, sp *Spec) {
	if sp.URL != nil {
		e.URL = k.Data.Seal([]byte(*sp.URL), "webhook/"+e.ID+"/url")
	}
	if sp.Description != nil {
		e.Description = k.Data.Seal([]byte(*sp.Description), "webhook/"+e.ID+"/description")
	}
	if sp.Types != nil {
		e.Types = nil
		if !slices.Contains(*sp.Types, "*") {
			e.Types = slices.Clone(*sp.Types)
		}
	}
	if sp.Enabled != nil {
		e.Enabled = *sp.Enabled
		if e.Enabled {
			e.DisabledReason, e.FailingSince = "", time.Time{}
		}
	}
	if sp.IncludeAddress != nil {
		e.IncludeAddress = *sp.IncludeAddress
	}
}

// Create registers an endpoint and returns it with its signing secret, shown this once.
func (s *Service) Create(ctx context.Context, tenantID string, sp *Spec, audit *store.AuditEntry) (*Endpoint, string, []*FieldError, error) {
	if fe := s.validate(sp, true); fe != nil {
		return nil, "", fe, nil
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, "", nil, err
	}
	now := s.now()
	e := &store.WebhookEndpoint{ID: tenant.NewID("whk"), TenantID: tenantID, Enabled: true, CreatedAt: now, UpdatedAt: now}
	apply(k, e, sp)
	secret := NewSecret()
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		if err := tx.AddWebhookSecret(ctx, e.ID, k.Data.Seal([]byte(secret), "webhook/"+e.ID+"/secret"), now, 0); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit, e.ID)
	})
	if err != nil {
		return nil, "", nil, err
	}
	v, err := s.view(k, e)
	return v, secret, nil, err
}

// Update changes an endpoint's settings. Re-enabling one clears its failure state.
func (s *Service) Update(ctx context.Context, tenantID, id string, sp *Spec, audit *store.AuditEntry) (*Endpoint, []*FieldError, error) {
	if fe := s.validate(sp, false); fe != nil {
		return nil, fe, nil
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.DB.WebhookEndpoint(ctx, tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	apply(k, e, sp)
	e.UpdatedAt = s.now()
	defer s.forget(id)
	if err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit, e.ID)
	}); err != nil {
		return nil, nil, err
	}
	v, err := s.view(k, e)
	return v, nil, err
}

// Get returns one endpoint.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*Endpoint, error) {
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	e, err := s.DB.WebhookEndpoint(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return s.view(k, e)
}

// List returns every endpoint of a tenant.
func (s *Service) List(ctx context.Context, tenantID string) ([]*Endpoint, error) {
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	es, err := s.DB.WebhookEndpoints(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*Endpoint{}
	for _, e := range es {
		v, err := s.view(k, e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Delete removes an endpoint and its pending deliveries.
func (s *Service) Delete(ctx context.Context, tenantID, id string, audit *store.AuditEntry) error {
	defer s.forget(id)
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteWebhookEndpoint(ctx, tenantID, id); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit, id)
	})
}

// MaxOverlap bounds how long an old secret may keep signing after a rotation.
const MaxOverlap = 30 * 24 * time.Hour

// Rotate gives an endpoint a new secret, returned this once; the old ones keep signing
// beside it for overlap (0: they stop at once).
func (s *Service) Rotate(ctx context.Context, tenantID, id string, overlap time.Duration, audit *store.AuditEntry) (string, []*FieldError, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return "", []*FieldError{{Field: "overlap", Detail: "must be between 0 and 30d", Status: 422}}, nil
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return "", nil, err
	}
	if _, err := s.DB.WebhookEndpoint(ctx, tenantID, id); err != nil {
		return "", nil, err
	}
	secret := NewSecret()
	defer s.forget(id)
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.AddWebhookSecret(ctx, id, k.Data.Seal([]byte(secret), "webhook/"+id+"/secret"), s.now(), overlap); err != nil {
			return err
		}
		if audit != nil {
			audit.Detail = "overlap " + duration.Format(overlap)
		}
		return appendAudit(ctx, tx, audit, id)
	})
	return secret, nil, err
}

// Replay queues events again for an endpoint: one event (eventID > 0) or every event in
// [since, until). It returns how many were queued.
func (s *Service) Replay(ctx context.Context, tenantID, id string, eventID int64, since, until time.Time, audit *store.AuditEntry) (int64, error) {
	e, err := s.DB.WebhookEndpoint(ctx, tenantID, id)
	if err != nil {
		return 0, err
	}
	if !e.Enabled {
		return 0, ErrDisabled
	}
	if eventID > 0 {
		if _, err := s.DB.Event(ctx, tenantID, eventID); err != nil {
			return 0, err
		}
	}
	var n int64
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if n, err = tx.EnqueueWebhookReplay(ctx, tenantID, id, eventID, since, until, s.now()); err != nil {
			return err
		}
		if audit != nil {
			audit.Detail = strconv.FormatInt(n, 10) + " events"
		}
		return appendAudit(ctx, tx, audit, id)
	})
	return n, err
}

// ErrDisabled refuses to queue deliveries to a disabled endpoint.
var ErrDisabled = errors.New("the endpoint is disabled: enable it first")

// Attempts lists an endpoint's delivery attempts, newest first.
func (s *Service) Attempts(ctx context.Context, tenantID, id string, before int64, limit int) ([]*store.WebhookAttempt, error) {
	if _, err := s.DB.WebhookEndpoint(ctx, tenantID, id); err != nil {
		return nil, err
	}
	return s.DB.WebhookAttempts(ctx, tenantID, id, before, limit)
}

// PublicKey returns the tenant's Ed25519 key that v1a signatures verify with, creating
// the key pair on first use.
func (s *Service) PublicKey(ctx context.Context, tenantID string) (ed25519.PublicKey, error) {
	_, pub, err := s.signingKey(ctx, tenantID)
	return pub, err
}

func (s *Service) signingKey(ctx context.Context, tenantID string) (ed25519.PrivateKey, ed25519.PublicKey, error) {
	s.mu.Lock()
	priv := s.keys[tenantID]
	s.mu.Unlock()
	if priv != nil {
		return priv, priv.Public().(ed25519.PublicKey), nil
	}
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	sealed, pub, err := s.DB.WebhookKey(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		p, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, nil, gerr
		}
		if err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.PutWebhookKey(ctx, tenantID, k.Data.Seal(priv.Seed(), "webhook-key/"+tenantID), p, s.now())
		}); err != nil {
			return nil, nil, err
		}
		sealed, pub, err = s.DB.WebhookKey(ctx, tenantID)
	}
	if err != nil {
		return nil, nil, err
	}
	seed, err := k.Data.Open(sealed, "webhook-key/"+tenantID)
	if err != nil {
		return nil, nil, err
	}
	priv = ed25519.NewKeyFromSeed(seed)
	s.mu.Lock()
	if s.keys == nil {
		s.keys = map[string]ed25519.PrivateKey{}
	}
	s.keys[tenantID] = priv
	s.mu.Unlock()
	return priv, ed25519.PublicKey(pub), nil
}

// signer loads the keys an endpoint's deliveries are signed with at now.
func (s *Service) signer(ctx context.Context, k *tenant.Keys, e *store.WebhookEndpoint) (Signer, error) {
	secrets, err := s.DB.WebhookSecrets(ctx, e.ID, s.now())
	if err != nil {
		return Signer{}, err
	}
	var sg Signer
	for _, sec := range secrets {
		raw, err := k.Data.Open(sec.Secret, "webhook/"+e.ID+"/secret")
		if err != nil {
			return Signer{}, err
		}
		key, err := ParseSecret(string(raw))
		if err != nil {
			return Signer{}, err
		}
		sg.Secrets = append(sg.Secrets, key)
	}
	priv, _, err := s.signingKey(ctx, e.TenantID)
	if err != nil {
		return Signer{}, err
	}
	sg.Keys = []ed25519.PrivateKey{priv}
	return sg, nil
}

func appendAudit(ctx context.Context, tx *store.Tx, e *store.AuditEntry, object string) error {
	if e == nil {
		return nil
	}
	if e.Object == "" {
		e.Object = object
	}
	return tx.AppendAudit(ctx, e)
}

// Test sends a "webhook.test" delivery to an endpoint now, signed like any other, and
// returns how the receiver answered. Nothing is stored or retried.
func (s *Service) Test(ctx context.Context, tenantID, id string) (Attempt, error) {
	k, err := s.Tenants.Keys(ctx, tenantID)
	if err != nil {
		return Attempt{}, err
	}
	e, err := s.DB.WebhookEndpoint(ctx, tenantID, id)
	if err != nil {
		return Attempt{}, err
	}
	sg, err := s.signer(ctx, k, e)
	if err != nil {
		return Attempt{}, err
	}
	u, err := k.Data.Open(e.URL, "webhook/"+e.ID+"/url")
	if err != nil {
		return Attempt{}, err
	}
	now := s.now()
	msgID := tenant.NewID("ev_test")
	body, _ := json.Marshal(&Payload{Type: "webhook.test", Timestamp: now, Data: Data{EventID: msgID}})
	return Post(ctx, s.Client, string(u), sg.Headers(msgID, now, body), body, s.now), nil
}
