package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// AuditView is one audit entry as the API shows it.
type AuditView struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Object    string    `json:"object,omitempty"`
	Result    string    `json:"result"`
	Client    string    `json:"client,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	Hash      string    `json:"hash"`
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	q := r.URL.Query()
	f := store.AuditFilter{TenantID: p.TenantID, Action: q.Get("action"), Principal: q.Get("principal"), Limit: 100}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(tf.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badField(tf.name, "must be an RFC 3339 time")
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
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badField("cursor", "not a cursor this API returned")
		}
		f.AfterSeq = n
	}
	// One more than the page tells whether another page follows.
	limit := f.Limit
	f.Limit++
	entries, err := s.DB.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Entries    []AuditView `json:"entries"`
		NextCursor string      `json:"next_cursor"`
		HasMore    bool        `json:"has_more"`
	}{Entries: []AuditView{}, NextCursor: q.Get("cursor")}
	if len(entries) > limit {
		entries, out.HasMore = entries[:limit], true
	}
	for _, e := range entries {
		out.Entries = append(out.Entries, AuditView{Seq: e.Seq, At: e.At, Principal: e.Principal, Action: e.Action, Object: e.Object,
			Result: e.Result, Client: e.Client, Detail: e.Detail, Hash: hexString(e.Hash)})
		out.NextCursor = strconv.FormatInt(e.Seq, 10)
	}
	writeJSON(w, 200, out)
	return nil
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, len(b)*2)
	for i, c := range b {
		out[i*2], out[i*2+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
