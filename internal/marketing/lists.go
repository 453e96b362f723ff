package marketing

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// List is a list as the API shows it.
type List struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Public      bool      `json:"public"`
	DoubleOptIn bool      `json:"double_opt_in"`
	CreatedAt   time.Time `json:"created_at"`
}

// Topic is a preference-centre topic.
type Topic struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func checkName(name string) []*FieldError {
	if name == "" || len(name) > 200 {
		return []*FieldError{fieldErr("name", "must be 1-200 bytes")}
	}
	return nil
}

// CreateList makes a list.
func (s *Service) CreateList(ctx context.Context, tenantID string, in *List, audit *store.AuditEntry) (*List, error) {
	if err := invalid("Invalid list", checkName(in.Name)); err != nil {
		return nil, err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	l := &store.MarketingList{ID: tenant.NewID("lst"), TenantID: tenantID, Public: in.Public, DoubleOptIn: in.DoubleOptIn, CreatedAt: now}
	l.Name = k.Data.SealString(in.Name, "list/"+l.ID+"/name")
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertMarketingList(ctx, l); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.list.create", l.ID, "", now)
	})
	if err != nil {
		return nil, err
	}
	return &List{ID: l.ID, Name: in.Name, Public: l.Public, DoubleOptIn: l.DoubleOptIn, CreatedAt: now}, nil
}

func openList(k *tenant.Keys, l *store.MarketingList) (*List, error) {
	name, err := k.Data.OpenString(l.Name, "list/"+l.ID+"/name")
	if err != nil {
		return nil, err
	}
	return &List{ID: l.ID, Name: name, Public: l.Public, DoubleOptIn: l.DoubleOptIn, CreatedAt: l.CreatedAt}, nil
}

// Lists returns a tenant's lists.
func (s *Service) Lists(ctx context.Context, tenantID string) ([]*List, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ls, err := s.DB.MarketingLists(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*List{}
	for _, l := range ls {
		v, err := openList(k, l)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// GetList loads one list.
func (s *Service) GetList(ctx context.Context, tenantID, id string) (*List, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	l, err := s.DB.MarketingList(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return openList(k, l)
}

// DeleteList removes a list and its memberships.
func (s *Service) DeleteList(ctx context.Context, tenantID, id string, audit *store.AuditEntry) error {
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteMarketingList(ctx, tenantID, id); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.list.delete", id, "", now)
	})
}

// SetMembership puts a contact on a list with a status (pending, confirmed,
// unsubscribed), or takes it off with status "".
func (s *Service) SetMembership(ctx context.Context, tenantID, listID, contactID, status string, audit *store.AuditEntry) error {
	if _, err := s.DB.MarketingList(ctx, tenantID, listID); err != nil {
		return err
	}
	if _, err := s.DB.Contact(ctx, tenantID, contactID); err != nil {
		return err
	}
	switch status {
	case "", "pending", "confirmed", "unsubscribed":
	default:
		return invalid("Invalid membership", []*FieldError{fieldErr("status", "must be pending, confirmed or unsubscribed")})
	}
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if status == "" {
			err = tx.DeleteMembership(ctx, tenantID, listID, contactID)
		} else {
			err = tx.PutMembership(ctx, tenantID, &store.Membership{ListID: listID, ContactID: contactID, Status: status, UpdatedAt: now})
		}
		if err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.list.member", listID, "contact "+contactID+" "+status, now)
	})
}

// CreateTopic makes a preference-centre topic.
func (s *Service) CreateTopic(ctx context.Context, tenantID string, in *Topic, audit *store.AuditEntry) (*Topic, error) {
	if err := invalid("Invalid topic", checkName(in.Name)); err != nil {
		return nil, err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &store.Topic{ID: tenant.NewID("top"), TenantID: tenantID, CreatedAt: now}
	t.Name = k.Data.SealString(in.Name, "topic/"+t.ID+"/name")
	t.Description = k.Data.SealString(in.Description, "topic/"+t.ID+"/description")
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertTopic(ctx, t); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.topic.create", t.ID, "", now)
	})
	if err != nil {
		return nil, err
	}
	return &Topic{ID: t.ID, Name: in.Name, Description: in.Description, CreatedAt: now}, nil
}

// Topics returns a tenant's topics.
func (s *Service) Topics(ctx context.Context, tenantID string) ([]*Topic, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ts, err := s.DB.Topics(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*Topic{}
	for _, t := range ts {
		name, err := k.Data.OpenString(t.Name, "topic/"+t.ID+"/name")
		if err != nil {
			return nil, err
		}
		desc, err := k.Data.OpenString(t.Description, "topic/"+t.ID+"/description")
		if err != nil {
			return nil, err
		}
		out = append(out, &Topic{ID: t.ID, Name: name, Description: desc, CreatedAt: t.CreatedAt})
	}
	return out, nil
}

// SetSubscription records a contact's choice for a topic.
func (s *Service) SetSubscription(ctx context.Context, tenantID, topicID, contactID string, subscribed bool, actor string, audit *store.AuditEntry) error {
	ts, err := s.DB.Topics(ctx, tenantID)
	if err != nil {
		return err
	}
	found := false
	for _, t := range ts {
		found = found || t.ID == topicID
	}
	if !found {
		return store.ErrNotFound
	}
	if _, err := s.DB.Contact(ctx, tenantID, contactID); err != nil {
		return err
	}
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutSubscription(ctx, tenantID, topicID, contactID, subscribed, now); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, actor, "marketing.topic.subscription", topicID, "contact "+contactID, now)
	})
}
