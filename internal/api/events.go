package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/webhook"
)

// EventView is one event as the API shows it.
type EventView struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	At          time.Time       `json:"at"`
	MessageID   string          `json:"message_id"`
	RecipientID string          `json:"recipient_id,omitempty"`
	Sandbox     bool            `json:"sandbox,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// EventTypes are the event types a filter may name: the one catalogue.
var EventTypes = webhook.Types

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	q := r.URL.Query()
	f := store.EventFilter{TenantID: p.TenantID, MessageID: q.Get("message"), Limit: 100}
	keys, err := s.Tenants.Keys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	if rc := q.Get("recipient"); rc != "" {
		a, err := message.ParseAddress(rc)
		if err != nil {
			return badField("recipient", "%s", err.Error())
		}
		f.AddressHash = keys.AddressHash(a.Addr)
	}
	if v := q.Get("tag"); v != "" {
		f.TagHash = pipeline.LabelHash(keys, "tag", v)
	}
	if v := q.Get("campaign"); v != "" {
		f.CampaignHash = pipeline.LabelHash(keys, "campaign", v)
	}
	if t := q.Get("type"); t != "" {
		for _, typ := range strings.Split(t, ",") {
			if !contains(EventTypes, typ) {
				return badField("type", "unknown event type (valid: %s)", strings.Join(EventTypes, ", "))
			}
			f.Types = append(f.Types, typ)
		}
	}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(tf.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badField(tf.name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			*tf.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "must be 1-1000")
		}
		f.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(c, "ev_"), 10, 64)
		if err != nil || n < 0 {
			return badField("cursor", "not a cursor this API returned")
		}
		f.AfterID = n
	}
	// One more than the page tells whether another page follows.
	limit := f.Limit
	f.Limit++
	evs, err := s.DB.Events(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Events     []EventView `json:"events"`
		NextCursor string      `json:"next_cursor"`
		HasMore    bool        `json:"has_more"`
	}{Events: []EventView{}}
	if len(evs) > limit {
		evs, out.HasMore = evs[:limit], true
	}
	for _, e := range evs {
		v := EventView{ID: "ev_" + strconv.FormatInt(e.ID, 10), Type: e.Type, At: e.At, MessageID: e.MessageID, RecipientID: e.RecipientID, Sandbox: e.Sandbox}
		if len(e.Data) > 0 {
			if b, err := keys.Data.Open(e.Data, "event/"+e.RecipientID); err == nil {
				v.Data = b
			}
		}
		out.Events = append(out.Events, v)
		out.NextCursor = v.ID
	}
	if out.NextCursor == "" {
		out.NextCursor = q.Get("cursor")
	}
	writeJSON(w, 200, out)
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
