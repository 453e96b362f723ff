package marketing

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// ConsentInput records a consent or authorisation as obtained.
type ConsentInput struct {
	Email string `json:"email"`
	// Kind: hipaa_authorization (45 CFR 164.508(a)(3)), email_opt_in or double_opt_in.
	Kind string `json:"kind"`
	// Purposes the contact agreed to ("marketing", "newsletter", …).
	Purposes []string `json:"purposes"`
	// Fields of the contact that messages under this consent may use to personalise.
	Fields []string `json:"fields,omitempty"`
	// ObtainedVia says how: "signed_form", "web_form", "confirmation_click", "paper", …
	ObtainedVia string    `json:"obtained_via"`
	ObtainedAt  time.Time `json:"obtained_at,omitzero"`
	// EvidenceHash is the SHA-256 (hex) of the evidence: the signed form, the
	// confirmation request. The evidence itself stays where it was kept.
	EvidenceHash string    `json:"evidence_hash,omitempty"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	// ExpiryEvent names an event that ends the consent ("end_of_treatment"); fire it
	// with FireExpiryEvent.
	ExpiryEvent  string `json:"expiry_event,omitempty"`
	Remuneration bool   `json:"remuneration"`
}

// Consent is a record as the API shows it.
type Consent struct {
	ID               string    `json:"id"`
	ContactID        string    `json:"contact_id"`
	Email            string    `json:"email"`
	Kind             string    `json:"kind"`
	Purposes         []string  `json:"purposes"`
	Fields           []string  `json:"fields"`
	ObtainedVia      string    `json:"obtained_via"`
	ObtainedAt       time.Time `json:"obtained_at"`
	EvidenceHash     string    `json:"evidence_hash,omitempty"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	ExpiryEvent      string    `json:"expiry_event,omitempty"`
	Remuneration     bool      `json:"remuneration"`
	State            string    `json:"state"` // active, expired, revoked
	ExpiredAt        time.Time `json:"expired_at,omitzero"`
	RevokedAt        time.Time `json:"revoked_at,omitzero"`
	RevokedVia       string    `json:"revoked_via,omitempty"`
	ContactDeletedAt time.Time `json:"contact_deleted_at,omitzero"`
	RetainUntil      time.Time `json:"retain_until,omitzero"`
}

type consentDetail struct {
	Email       string `json:"email"`
	ObtainedVia string `json:"obtained_via"`
}

func consentBinding(id string) string { return "consent/" + id + "/detail" }

func joinNames(ns []string) string {
	if len(ns) == 0 {
		return ","
	}
	return "," + strings.Join(ns, ",") + ","
}

func splitNames(s string) []string {
	out := []string{}
	for _, n := range strings.Split(strings.Trim(s, ","), ",") {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

func (s *Service) checkConsent(in *ConsentInput, schema map[string]*Field) (string, []*FieldError) {
	var fe []*FieldError
	email, err := normEmail(in.Email)
	if err != nil {
		fe = append(fe, fieldErr("email", err.Error()))
	}
	if !slices.Contains(ConsentKinds, in.Kind) {
		fe = append(fe, fieldErr("kind", "must be one of "+strings.Join(ConsentKinds, ", ")))
	}
	if len(in.Purposes) == 0 || len(in.Purposes) > 20 {
		fe = append(fe, fieldErr("purposes", "must name 1-20 purposes"))
	}
	for i, p := range in.Purposes {
		if !scopeName.MatchString(p) {
			fe = append(fe, fieldErr(fmt.Sprintf("purposes[%d]", i), "must be lowercase letters, digits, _ or -"))
		}
	}
	for i, f := range in.Fields {
		if f != "email" && schema[f] == nil {
			fe = append(fe, fieldErr(fmt.Sprintf("fields[%d]", i), "is not a field of the contact schema"))
		}
	}
	if in.ObtainedVia == "" || len(in.ObtainedVia) > 100 {
		fe = append(fe, fieldErr("obtained_via", "must say how the consent was obtained (1-100 bytes)"))
	}
	if in.EvidenceHash != "" {
		if b, err := hex.DecodeString(in.EvidenceHash); err != nil || len(b) != 32 {
			fe = append(fe, fieldErr("evidence_hash", "must be a SHA-256 in hex (64 digits)"))
		}
	} else if in.Kind == "hipaa_authorization" || in.Kind == "double_opt_in" {
		fe = append(fe, fieldErr("evidence_hash", "is required for this kind: the hash of the signed form or the confirmation"))
	}
	if in.ExpiryEvent != "" && !scopeName.MatchString(in.ExpiryEvent) {
		fe = append(fe, fieldErr("expiry_event", "must be lowercase letters, digits, _ or -"))
	}
	// 45 CFR 164.508(c)(1)(v): an authorisation states an expiration date or event.
	if in.Kind == "hipaa_authorization" && in.ExpiresAt.IsZero() && in.ExpiryEvent == "" {
		fe = append(fe, fieldErr("expires_at", "an authorisation needs an expiry date or an expiry_event"))
	}
	if !in.ExpiresAt.IsZero() && !in.ObtainedAt.IsZero() && !in.ExpiresAt.After(in.ObtainedAt) {
		fe = append(fe, fieldErr("expires_at", "must be after obtained_at"))
	}
	return email, fe
}

// RecordConsent stores a consent record for an address, creating the contact when
// there is none. Forms call it with a form's consent block; the API with records
// obtained elsewhere.
func (s *Service) RecordConsent(ctx context.Context, tenantID string, in *ConsentInput) (string, error) {
	c, err := s.recordConsent(ctx, tenantID, in, nil)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// AddConsent is RecordConsent for a request with its own audit entry.
func (s *Service) AddConsent(ctx context.Context, tenantID string, in *ConsentInput, audit *store.AuditEntry) (*Consent, error) {
	return s.recordConsent(ctx, tenantID, in, audit)
}

func (s *Service) recordConsent(ctx context.Context, tenantID string, in *ConsentInput, audit *store.AuditEntry) (*Consent, error) {
	fields, err := s.Schema(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	email, fe := s.checkConsent(in, schemaMap(fields))
	if err := invalid("Invalid consent", fe); err != nil {
		return nil, err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	contact, err := s.DB.ContactByEmailHash(ctx, tenantID, k.AddressHash(email))
	if err == store.ErrNotFound {
		oc, _, err := s.PutContact(ctx, tenantID, &ContactInput{Email: email}, nil)
		if err != nil {
			return nil, err
		}
		contact = &store.Contact{ID: oc.ID}
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	obtained := in.ObtainedAt
	if obtained.IsZero() {
		obtained = now
	}
	detail, _ := json.Marshal(consentDetail{Email: email, ObtainedVia: in.ObtainedVia})
	rec := &store.Consent{ID: tenant.NewID("cst"), TenantID: tenantID, ContactID: contact.ID, EmailHash: k.AddressHash(email), Kind: in.Kind,
		Purposes: joinNames(in.Purposes), Fields: joinNames(in.Fields), EvidenceHash: strings.ToLower(in.EvidenceHash), Remuneration: in.Remuneration,
		ObtainedAt: obtained.UTC(), ExpiresAt: in.ExpiresAt.UTC(), ExpiryEvent: in.ExpiryEvent, CreatedAt: now}
	if in.ExpiresAt.IsZero() {
		rec.ExpiresAt = time.Time{}
	}
	rec.Detail = k.Data.Seal(detail, consentBinding(rec.ID))
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertConsent(ctx, rec); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system:"+in.ObtainedVia, "marketing.consent.record", rec.ID, in.Kind, now)
	})
	if err != nil {
		return nil, err
	}
	return s.openConsent(k, rec)
}

func (s *Service) openConsent(k *tenant.Keys, c *store.Consent) (*Consent, error) {
	var d consentDetail
	b, err := k.Data.Open(c.Detail, consentBinding(c.ID))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	out := &Consent{ID: c.ID, ContactID: c.ContactID, Email: d.Email, Kind: c.Kind, Purposes: splitNames(c.Purposes), Fields: splitNames(c.Fields),
		ObtainedVia: d.ObtainedVia, ObtainedAt: c.ObtainedAt, EvidenceHash: c.EvidenceHash, ExpiresAt: c.ExpiresAt, ExpiryEvent: c.ExpiryEvent,
		Remuneration: c.Remuneration, ExpiredAt: c.ExpiredAt, RevokedAt: c.RevokedAt, RevokedVia: c.RevokedVia,
		ContactDeletedAt: c.ContactDeletedAt, RetainUntil: c.RetainUntil}
	out.State = consentState(c, s.now())
	return out, nil
}

func consentState(c *store.Consent, now time.Time) string {
	switch {
	case !c.RevokedAt.IsZero():
		return "revoked"
	case !c.ExpiredAt.IsZero(), !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now):
		return "expired"
	}
	return "active"
}

// Consents lists a contact's records ("" = all of the tenant's).
func (s *Service) Consents(ctx context.Context, tenantID, contactID string) ([]*Consent, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	cs, err := s.DB.Consents(ctx, tenantID, contactID)
	if err != nil {
		return nil, err
	}
	out := []*Consent{}
	for _, c := range cs {
		v, err := s.openConsent(k, c)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// GetConsent loads one record.
func (s *Service) GetConsent(ctx context.Context, tenantID, id string) (*Consent, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	c, err := s.DB.Consent(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return s.openConsent(k, c)
}

// consentEvent is the timeline entry of a consent change: recipient_id carries the
// consent's id, and the sealed data names the contact.
func consentEvent(k *tenant.Keys, c *store.Consent, typ string, at time.Time) *store.Event {
	b, _ := json.Marshal(map[string]string{"consent_id": c.ID, "contact_id": c.ContactID, "kind": c.Kind})
	return &store.Event{TenantID: c.TenantID, RecipientID: c.ID, Type: typ, At: at, Data: k.Data.Seal(b, "event/"+c.ID)}
}

// RevokeConsent revokes a record at once; via says how ("api", "letter", "phone",
// "preference_centre"). The consent.revoked event is written with it.
func (s *Service) RevokeConsent(ctx context.Context, tenantID, id, via string, audit *store.AuditEntry) (*Consent, error) {
	if via == "" || len(via) > 100 {
		return nil, invalid("Invalid revocation", []*FieldError{fieldErr("via", "must say how the revocation came (1-100 bytes)")})
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	c, err := s.DB.Consent(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if !c.RevokedAt.IsZero() {
		return s.openConsent(k, c)
	}
	now := s.now()
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.RevokeConsent(ctx, tenantID, id, now, via); err != nil {
			return err
		}
		if err := tx.InsertEvents(ctx, consentEvent(k, c, "consent.revoked", now)); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system:"+via, "marketing.consent.revoke", id, via, now)
	})
	if err != nil {
		return nil, err
	}
	c.RevokedAt, c.RevokedVia = now, via
	return s.openConsent(k, c)
}

// FireExpiryEvent ends every live record of a contact whose expiry event is the one
// named, and returns them.
func (s *Service) FireExpiryEvent(ctx context.Context, tenantID, contactID, event string, audit *store.AuditEntry) ([]string, error) {
	if !scopeName.MatchString(event) {
		return nil, invalid("Invalid event", []*FieldError{fieldErr("event", "must be lowercase letters, digits, _ or -")})
	}
	if _, err := s.DB.Contact(ctx, tenantID, contactID); err != nil {
		return nil, err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	cs, err := s.DB.LiveConsentsByEvent(ctx, tenantID, contactID, event)
	if err != nil {
		return nil, err
	}
	return s.expire(ctx, k, cs, audit, "event "+event)
}

func (s *Service) expire(ctx context.Context, k *tenant.Keys, cs []*store.Consent, audit *store.AuditEntry, why string) ([]string, error) {
	ids := []string{}
	if len(cs) == 0 {
		return ids, nil
	}
	now := s.now()
	err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		ids = ids[:0]
		for _, c := range cs {
			if err := tx.ExpireConsent(ctx, c.TenantID, c.ID, now); err == store.ErrNotFound {
				continue // revoked or expired meanwhile
			} else if err != nil {
				return err
			}
			if err := tx.InsertEvents(ctx, consentEvent(k, c, "consent.expired", now)); err != nil {
				return err
			}
			var e *store.AuditEntry
			if audit != nil {
				cp := *audit
				e = &cp
			}
			if err := audited(ctx, tx, e, c.TenantID, "system", "marketing.consent.expire", c.ID, why, now); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	return ids, err
}

// ExpireDue marks records whose expiry date has passed and writes their
// consent.expired events; the server runs it periodically. Segments and sends stop
// counting such a record the moment its date passes, whether or not this has run.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	n := 0
	for {
		cs, err := s.DB.DueConsents(ctx, s.now(), 200)
		if err != nil || len(cs) == 0 {
			return n, err
		}
		byTenant := map[string][]*store.Consent{}
		for _, c := range cs {
			byTenant[c.TenantID] = append(byTenant[c.TenantID], c)
		}
		for tid, group := range byTenant {
			k, _, err := s.keys(ctx, tid)
			if err != nil {
				return n, err
			}
			ids, err := s.expire(ctx, k, group, nil, "date")
			if err != nil {
				return n, err
			}
			n += len(ids)
		}
		if len(cs) < 200 {
			return n, nil
		}
	}
}

// PurgeExpiredRecords deletes consent records whose retention (six years after their
// contact's deletion) has ended.
func (s *Service) PurgeExpiredRecords(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		n, err = tx.PurgeConsents(ctx, s.now())
		return err
	})
	return n, err
}

// LiveConsent returns the contact's live records of a kind covering a purpose.
func (s *Service) LiveConsent(ctx context.Context, tenantID, contactID, kind, purpose string) ([]*store.Consent, error) {
	cs, err := s.DB.Consents(ctx, tenantID, contactID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []*store.Consent
	for _, c := range cs {
		if c.Kind == kind && consentState(c, now) == "active" && (purpose == "" || strings.Contains(c.Purposes, ","+purpose+",")) {
			out = append(out, c)
		}
	}
	return out, nil
}

// CheckPersonalisation refuses fields a message would use that no live record of
// the kind and purpose allows; each problem names the field's path as the caller
// gave it (pathOf maps a field name to that path).
func (s *Service) CheckPersonalisation(ctx context.Context, tenantID, contactID, kind, purpose string, used []string, pathOf func(string) string) error {
	live, err := s.LiveConsent(ctx, tenantID, contactID, kind, purpose)
	if err != nil {
		return err
	}
	if len(live) == 0 {
		return invalid("No consent", []*FieldError{fieldErr(pathOf(""), "the contact has no live "+kind+" consent for "+purpose)})
	}
	var fe []*FieldError
	for _, f := range used {
		ok := false
		for _, c := range live {
			ok = ok || strings.Contains(c.Fields, ","+f+",")
		}
		if !ok {
			fe = append(fe, fieldErr(pathOf(f), "the contact's consent does not allow personalising with this field"))
		}
	}
	return invalid("Personalisation outside consent", fe)
}

// Run marks consents whose expiry date passed (with their events) and purges records
// past retention, once a minute until ctx ends; once an hour it applies the tenants'
// sunset policies.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	var lastSunset time.Time
	for {
		if time.Since(lastSunset) >= time.Hour {
			lastSunset = time.Now()
			if n, err := s.SweepAllSunsets(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Warn("sunset sweep failed", "err", err)
			} else if n > 0 && s.Log != nil {
				s.Log.Info("contacts suppressed by sunset policies", "count", n)
			}
		}
		if n, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Warn("consent expiry sweep failed", "err", err)
		} else if n > 0 && s.Log != nil {
			s.Log.Info("consents expired", "count", n)
		}
		if _, err := s.PurgeExpiredRecords(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Warn("consent retention purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
