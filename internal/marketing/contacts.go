package marketing

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Contact is a contact as the API shows it.
type Contact struct {
	ID        string         `json:"id"`
	Email     string         `json:"email"`
	Fields    map[string]any `json:"fields"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ContactInput creates or updates a contact, keyed by its address. Fields are merged
// into what is stored; a field set to null is removed.
type ContactInput struct {
	Email  string         `json:"email"`
	Fields map[string]any `json:"fields,omitempty"`
	// Lists the contact joins: confirmed at once on single opt-in lists, pending on
	// double opt-in ones until the contact confirms.
	Lists []string `json:"lists,omitempty"`
}

// binding ties sealed contact values to the contact's keyed address hash, which is
// unique per tenant and known before the row's id is.
func binding(h []byte, what string) string { return "contact/" + hex.EncodeToString(h) + "/" + what }

// normEmail validates an address and returns its canonical form.
func normEmail(s string) (string, error) {
	a, err := message.ParseAddress(s)
	if err != nil || a.Name != "" {
		return "", fmt.Errorf("must be a plain email address")
	}
	return a.Addr, nil
}

// checkFields validates values against the schema; path prefixes each problem.
func checkFields(schema map[string]*Field, in map[string]any, path string, fromText bool) (map[string]any, []*FieldError) {
	out := make(map[string]any, len(in))
	var fe []*FieldError
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := in[n]
		f, ok := schema[n]
		if !ok {
			fe = append(fe, fieldErr(path+"."+n, "is not a field of the contact schema"))
			continue
		}
		if v == nil {
			out[n] = nil
			continue
		}
		pv, err := parseValue(f.Type, v, fromText)
		if err != nil {
			fe = append(fe, fieldErr(path+"."+n, err.Error()))
			continue
		}
		out[n] = pv
	}
	return out, fe
}

// sealed is a contact ready to store.
type sealed struct {
	c      *store.Contact
	index  [][]byte
	fields map[string]any // the merged values, in the clear, for the caller
}

// prepare merges new values into old (nil: a new contact), seals them and computes
// the index rows.
func prepare(k *tenant.Keys, h hasher, schema map[string]*Field, tenantID, email string, old map[string]any, upd map[string]any, now time.Time) (*sealed, error) {
	merged := map[string]any{}
	for n, v := range old {
		if _, ok := schema[n]; ok { // values of deleted fields go with the next write
			merged[n] = v
		}
	}
	for n, v := range upd {
		if v == nil {
			delete(merged, n)
		} else {
			merged[n] = v
		}
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	eh := k.AddressHash(email)
	c := &store.Contact{ID: tenant.NewID("con"), TenantID: tenantID, EmailHash: eh,
		Email: k.Data.SealString(email, binding(eh, "email")), Fields: k.Data.Seal(raw, binding(eh, "fields")), CreatedAt: now, UpdatedAt: now}
	var index [][]byte
	for n, v := range merged {
		if f := schema[n]; f != nil && f.Filterable {
			index = append(index, h.indexHashes(f, normalise(f, v))...)
		}
	}
	return &sealed{c: c, index: index, fields: merged}, nil
}

// normalise turns a value read back from JSON into its stored Go type.
func normalise(f *Field, v any) any {
	if f.Type == TypeList {
		if items, ok := v.([]any); ok {
			out := make([]string, 0, len(items))
			for _, it := range items {
				if s, ok := it.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return v
}

func open(k *tenant.Keys, c *store.Contact) (*Contact, error) {
	email, err := k.Data.OpenString(c.Email, binding(c.EmailHash, "email"))
	if err != nil {
		return nil, err
	}
	raw, err := k.Data.Open(c.Fields, binding(c.EmailHash, "fields"))
	if err != nil {
		return nil, err
	}
	out := &Contact{ID: c.ID, Email: email, Fields: map[string]any{}, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if err := json.Unmarshal(raw, &out.Fields); err != nil {
		return nil, err
	}
	return out, nil
}

// PutContact creates a contact, or updates the one with the same address.
func (s *Service) PutContact(ctx context.Context, tenantID string, in *ContactInput, audit *store.AuditEntry) (*Contact, bool, error) {
	k, h, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, false, err
	}
	schema, err := s.Schema(ctx, tenantID)
	if err != nil {
		return nil, false, err
	}
	var fe []*FieldError
	email, err := normEmail(in.Email)
	if err != nil {
		fe = append(fe, fieldErr("email", err.Error()))
	}
	vals, vfe := checkFields(schemaMap(schema), in.Fields, "fields", false)
	fe = append(fe, vfe...)
	lists := map[string]*store.MarketingList{}
	for i, id := range in.Lists {
		l, err := s.DB.MarketingList(ctx, tenantID, id)
		if errors.Is(err, store.ErrNotFound) {
			fe = append(fe, fieldErr(fmt.Sprintf("lists[%d]", i), "no such list"))
			continue
		} else if err != nil {
			return nil, false, err
		}
		lists[id] = l
	}
	if err := invalid("Invalid contact", fe); err != nil {
		return nil, false, err
	}
	var old map[string]any
	existing, err := s.DB.ContactByEmailHash(ctx, tenantID, k.AddressHash(email))
	switch {
	case err == nil:
		oc, err := open(k, existing)
		if err != nil {
			return nil, false, err
		}
		old = oc.Fields
	case err != store.ErrNotFound:
		return nil, false, err
	}
	now := s.now()
	sc, err := prepare(k, h, schemaMap(schema), tenantID, email, old, vals, now)
	if err != nil {
		return nil, false, err
	}
	var created bool
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if created, err = tx.PutContact(ctx, sc.c, sc.index); err != nil {
			return err
		}
		for id, l := range lists {
			st := "confirmed"
			if l.DoubleOptIn {
				st = "pending"
			}
			if err := tx.PutMembership(ctx, tenantID, &store.Membership{ListID: id, ContactID: sc.c.ID, Status: st, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.contact.put", sc.c.ID, "", now)
	})
	if err != nil {
		return nil, false, err
	}
	c, err := open(k, sc.c)
	return c, created, err
}

// GetContact loads one contact.
func (s *Service) GetContact(ctx context.Context, tenantID, id string) (*Contact, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	c, err := s.DB.Contact(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return open(k, c)
}

// ContactByEmail finds a contact by address.
func (s *Service) ContactByEmail(ctx context.Context, tenantID, email string) (*Contact, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	e, err := normEmail(email)
	if err != nil {
		return nil, store.ErrNotFound
	}
	c, err := s.DB.ContactByEmailHash(ctx, tenantID, k.AddressHash(e))
	if err != nil {
		return nil, err
	}
	return open(k, c)
}

// ListContacts pages through contacts by id after the cursor.
func (s *Service) ListContacts(ctx context.Context, tenantID, after string, limit int) ([]*Contact, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	cs, err := s.DB.Contacts(ctx, tenantID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Contact, 0, len(cs))
	for _, c := range cs {
		oc, err := open(k, c)
		if err != nil {
			return nil, err
		}
		out = append(out, oc)
	}
	return out, nil
}

// DeleteContact removes a contact and everything about it except its consent
// records, which are kept for the retention period.
func (s *Service) DeleteContact(ctx context.Context, tenantID, id string, audit *store.AuditEntry) error {
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteContact(ctx, tenantID, id, now, now.Add(s.retain())); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.contact.delete", id, "", now)
	})
}
