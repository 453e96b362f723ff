package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// MessageSummary is one message in a search result.
type MessageSummary struct {
	ID          string             `json:"id"`
	CreatedAt   time.Time          `json:"created_at"`
	From        string             `json:"from"`
	Subject     string             `json:"subject"`
	Tags        []string           `json:"tags"`
	Campaign    string             `json:"campaign,omitempty"`
	Metadata    map[string]string  `json:"metadata,omitempty"`
	Sandbox     bool               `json:"sandbox"`
	Quarantined bool               `json:"quarantined"`
	Recipients  []RecipientSummary `json:"recipients"`
}

// RecipientSummary is one recipient of a MessageSummary.
type RecipientSummary struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Status string `json:"status"`
	Method string `json:"method,omitempty"`
}

// MessageList is a page of a message search.
type MessageList struct {
	Messages []MessageSummary `json:"messages"`
	cursorPage
}

// Statuses and methods a search may name.
var (
	searchStatuses = []string{pipeline.StatusQueued, pipeline.StatusDeferred, pipeline.StatusDelivered, pipeline.StatusBounced,
		pipeline.StatusExpired, pipeline.StatusHeld, "dropped", "revoked"}
	searchMethods = []string{"tls", "pgp", "smime", "portal", "none"}
)

// listMessages serves GET /v1/messages: a search, newest first, with a cursor.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	q := r.URL.Query()
	keys, err := s.Tenants.Keys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	f := store.MessageFilter{TenantID: p.TenantID, Sandbox: p.Sandbox, Limit: 50}
	var fields []FieldProblem
	bad := func(field, detail string) { fields = append(fields, FieldProblem{Field: field, Detail: detail}) }
	list := func(name string, valid []string) []string {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		out := strings.Split(v, ",")
		for _, x := range out {
			if !contains(valid, x) {
				bad(name, "one or more (comma-separated) of "+strings.Join(valid, ", "))
				return nil
			}
		}
		return out
	}
	f.Statuses = list("status", searchStatuses)
	f.Methods = list("method", searchMethods)
	if v := q.Get("recipient"); v != "" {
		if a, err := message.ParseAddress(v); err != nil {
			bad("recipient", err.Error())
		} else {
			f.AddressHash = keys.AddressHash(a.Addr)
		}
	}
	if v := q.Get("from"); v != "" {
		if a, err := message.ParseAddress(v); err != nil {
			bad("from", err.Error())
		} else {
			f.FromHash = report.FromDim(keys, a.Addr).Value
		}
	}
	if v := q.Get("campaign"); v != "" {
		f.CampaignHash = pipeline.LabelHash(keys, "campaign", v)
	}
	if v := q.Get("tag"); v != "" {
		f.TagHash = pipeline.LabelHash(keys, "tag", v)
	}
	for name, vals := range q {
		if k, ok := strings.CutPrefix(name, "metadata."); ok && k != "" && len(vals) > 0 {
			f.Dims = append(f.Dims, report.MetadataDim(keys, k, vals[0]))
		}
	}
	if v := q.Get("quarantined"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("quarantined", "true or false")
		}
		f.Quarantined = &b
	}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(tf.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(tf.name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			*tf.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			bad("limit", "must be 1-200")
		}
		f.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		if !strings.HasPrefix(c, "msg_") || len(c) > 64 {
			bad("cursor", "not a cursor this API returned")
		}
		f.Before = c
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	limit := f.Limit
	f.Limit++ // one more than the page tells whether another follows
	msgs, err := s.DB.SearchMessages(r.Context(), f)
	if err != nil {
		return err
	}
	msgs, pg := page(msgs, limit, func(m *store.Message) string { return m.ID })
	out := MessageList{Messages: []MessageSummary{}, cursorPage: pg}
	for _, m := range msgs {
		v, err := s.summary(r, keys, m)
		if err != nil {
			return err
		}
		out.Messages = append(out.Messages, v)
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) summary(r *http.Request, keys *tenant.Keys, m *store.Message) (MessageSummary, error) {
	v := MessageSummary{ID: m.ID, CreatedAt: m.CreatedAt, Sandbox: m.Sandbox, Quarantined: m.Quarantined, Tags: []string{}, Recipients: []RecipientSummary{}}
	if envb, err := keys.Data.Open(m.Envelope, "message/"+m.ID+"/envelope"); err == nil {
		var env pipeline.Envelope
		if json.Unmarshal(envb, &env) == nil {
			v.From, v.Subject, v.Campaign, v.Metadata = env.From, env.Subject, env.Campaign, env.Metadata
			if env.Tags != nil {
				v.Tags = env.Tags
			}
		}
	}
	rcpts, err := s.DB.Recipients(r.Context(), m.ID)
	if err != nil {
		return v, err
	}
	for _, rc := range rcpts {
		addr, _ := keys.Data.OpenString(rc.Address, "recipient/"+rc.ID)
		v.Recipients = append(v.Recipients, RecipientSummary{ID: rc.ID, Email: addr, Status: rc.Status, Method: rc.Method})
	}
	return v, nil
}
