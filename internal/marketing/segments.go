package marketing

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Segment is a saved filter as the API shows it.
type Segment struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Filter    json.RawMessage `json:"filter"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// SegmentInput creates a saved segment.
type SegmentInput struct {
	Name   string          `json:"name"`
	Filter json.RawMessage `json:"filter"`
}

// CreateSegment validates and saves a filter; the filter is compiled again at every
// use, so it always reads the schema, lists and consents as they are then.
func (s *Service) CreateSegment(ctx context.Context, tenantID string, in *SegmentInput, audit *store.AuditEntry) (*Segment, error) {
	fe := checkName(in.Name)
	if _, err := s.Compile(ctx, tenantID, in.Filter); err != nil {
		ie, ok := err.(*InvalidError)
		if !ok {
			return nil, err
		}
		fe = append(fe, ie.Fields...)
	}
	if err := invalid("Invalid segment", fe); err != nil {
		return nil, err
	}
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	sg := &store.Segment{ID: tenant.NewID("seg"), TenantID: tenantID, CreatedAt: now, UpdatedAt: now}
	sg.Name = k.Data.SealString(in.Name, "segment/"+sg.ID+"/name")
	sg.Filter = k.Data.Seal(in.Filter, "segment/"+sg.ID+"/filter")
	err = s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutSegment(ctx, sg); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.segment.create", sg.ID, "", now)
	})
	if err != nil {
		return nil, err
	}
	return &Segment{ID: sg.ID, Name: in.Name, Filter: in.Filter, CreatedAt: now, UpdatedAt: now}, nil
}

func openSegment(k *tenant.Keys, sg *store.Segment) (*Segment, error) {
	name, err := k.Data.OpenString(sg.Name, "segment/"+sg.ID+"/name")
	if err != nil {
		return nil, err
	}
	f, err := k.Data.Open(sg.Filter, "segment/"+sg.ID+"/filter")
	if err != nil {
		return nil, err
	}
	return &Segment{ID: sg.ID, Name: name, Filter: f, CreatedAt: sg.CreatedAt, UpdatedAt: sg.UpdatedAt}, nil
}

// GetSegment loads a saved segment.
func (s *Service) GetSegment(ctx context.Context, tenantID, id string) (*Segment, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	sg, err := s.DB.Segment(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return openSegment(k, sg)
}

// Segments lists a tenant's saved segments.
func (s *Service) Segments(ctx context.Context, tenantID string) ([]*Segment, error) {
	k, _, err := s.keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	sgs, err := s.DB.Segments(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []*Segment{}
	for _, sg := range sgs {
		v, err := openSegment(k, sg)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// DeleteSegment removes a saved segment.
func (s *Service) DeleteSegment(ctx context.Context, tenantID, id string, audit *store.AuditEntry) error {
	now := s.now()
	return s.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteSegment(ctx, tenantID, id); err != nil {
			return err
		}
		return audited(ctx, tx, audit, tenantID, "system", "marketing.segment.delete", id, "", now)
	})
}

// SegmentPage is one page of a segment's members and its total.
type SegmentPage struct {
	Count    int        `json:"count"`
	Contacts []*Contact `json:"contacts"`
	Next     string     `json:"next,omitempty"`
}

// Members evaluates a filter now: its count and a page of members after the cursor.
func (s *Service) Members(ctx context.Context, tenantID string, filter json.RawMessage, after string, limit int) (*SegmentPage, error) {
	n, err := s.Compile(ctx, tenantID, filter)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	cnt, err := s.DB.SegmentCount(ctx, tenantID, n)
	if err != nil {
		return nil, err
	}
	ids, err := s.DB.SegmentContactIDs(ctx, tenantID, n, after, limit)
	if err != nil {
		return nil, err
	}
	p := &SegmentPage{Count: cnt, Contacts: []*Contact{}}
	for _, id := range ids {
		c, err := s.GetContact(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		p.Contacts = append(p.Contacts, c)
	}
	if len(ids) == limit {
		p.Next = ids[len(ids)-1]
	}
	return p, nil
}
