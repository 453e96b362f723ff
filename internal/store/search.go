package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MessageFilter selects one tenant's messages for search. Every label is matched by the
// keyed hash stored in its place; recipient conditions hold when any recipient matches.
type MessageFilter struct {
	TenantID     string
	Sandbox      bool     // sandbox messages only, or live ones only
	Statuses     []string // a recipient in one of these statuses
	Methods      []string // a recipient whose copy was secured so
	AddressHash  []byte   // a recipient with this address
	FromHash     string   // report dimension "from"
	CampaignHash string
	TagHash      string
	Dims         []ReportDim // report dimensions (metadata) the message must count under
	Quarantined  *bool
	Since, Until time.Time
	// Before is the cursor: messages with a smaller id, newest first. Ids grow with
	// time, so messages arriving while a client pages never shift its pages.
	Before string
	Limit  int
}

// searchCols are messageCols without the content, which a list never shows.
const searchCols = "id, tenant_id, created_at, from_domain, sandbox, campaign, tags, size, envelope, NULL, dlp, quarantined"

// SearchMessages lists messages matching f, newest first.
func (db *DB) SearchMessages(ctx context.Context, f MessageFilter) ([]*Message, error) {
	where := []string{"tenant_id = $1", "sandbox = $2"}
	args := []any{f.TenantID, b2i(f.Sandbox)}
	add := func(cond string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(args)), 1)
		}
		where = append(where, cond)
	}
	in := func(col string, vals []string) string {
		return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")"
	}
	anyOf := func(vals []string) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = v
		}
		return out
	}
	if f.Before != "" {
		add("id < ?", f.Before)
	}
	if len(f.Statuses) > 0 {
		add("id IN (SELECT message_id FROM recipients WHERE tenant_id = $1 AND "+in("status", f.Statuses)+")", anyOf(f.Statuses)...)
	}
	if len(f.Methods) > 0 {
		add("id IN (SELECT message_id FROM recipients WHERE tenant_id = $1 AND "+in("method", f.Methods)+")", anyOf(f.Methods)...)
	}
	if f.AddressHash != nil {
		add("id IN (SELECT message_id FROM recipients WHERE tenant_id = $1 AND address_hash = ?)", f.AddressHash)
	}
	if f.FromHash != "" {
		f.Dims = append(f.Dims, ReportDim{Dim: "from", Value: f.FromHash})
	}
	for _, d := range f.Dims {
		add("id IN (SELECT message_id FROM report_dims WHERE dim = ? AND value = ?)", d.Dim, d.Value)
	}
	if f.CampaignHash != "" {
		add("campaign = ?", f.CampaignHash)
	}
	if f.TagHash != "" {
		// tags is a JSON array of hex hashes: the quoted hash matches one whole element.
		add("tags LIKE ?", `%"`+f.TagHash+`"%`)
	}
	if f.Quarantined != nil {
		add("quarantined = ?", b2i(*f.Quarantined))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", ms(f.Until))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > MaxPage {
		return nil, fmt.Errorf("page of %d: at most %d", f.Limit, MaxPage)
	}
	args = append(args, f.Limit)
	// #nosec G201 -- only fixed conditions and numbered placeholders are formatted in
	q := fmt.Sprintf("SELECT %s FROM messages WHERE %s ORDER BY id DESC LIMIT $%d", searchCols, strings.Join(where, " AND "), len(args))
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
