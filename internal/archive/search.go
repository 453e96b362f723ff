package archive

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Query selects entries; every criterion given must hold. Word criteria (From, To,
// Subject, Body, Attachment) match entries holding every word; From and To given as
// an address match that whole address; Attachment matches a whole file name too.
type Query struct {
	Since      time.Time `json:"since,omitzero"`
	Until      time.Time `json:"until,omitzero"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Address    string    `json:"address,omitempty"` // any participant, whole address
	Subject    string    `json:"subject,omitempty"`
	Body       string    `json:"body,omitempty"`
	Attachment string    `json:"attachment,omitempty"`
	Direction  string    `json:"direction,omitempty"`
	Tag        string    `json:"tag,omitempty"`
	Campaign   string    `json:"campaign,omitempty"`
}

// Fields names the criteria a query uses, for the audit trail: which, never what.
func (q *Query) Fields() string {
	var f []string
	for _, c := range []struct {
		name string
		set  bool
	}{{"since", !q.Since.IsZero()}, {"until", !q.Until.IsZero()}, {"from", q.From != ""}, {"to", q.To != ""},
		{"address", q.Address != ""}, {"subject", q.Subject != ""}, {"body", q.Body != ""}, {"attachment", q.Attachment != ""},
		{"direction", q.Direction != ""}, {"tag", q.Tag != ""}, {"campaign", q.Campaign != ""}} {
		if c.set {
			f = append(f, c.name)
		}
	}
	return strings.Join(f, ",")
}

// Validate names every bad criterion, by field.
func (q *Query) Validate() map[string]string {
	bad := map[string]string{}
	if q.Direction != "" && q.Direction != Inbound && q.Direction != Outbound {
		bad["direction"] = "must be in or out"
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		bad["until"] = "must be after since"
	}
	for name, v := range map[string]string{"from": q.From, "to": q.To, "subject": q.Subject, "body": q.Body, "attachment": q.Attachment} {
		if v != "" && !strings.Contains(v, "@") && len(Words(v)) == 0 && name != "attachment" {
			bad[name] = "has no letters or digits to search for"
		}
	}
	if q.Address != "" && !strings.Contains(q.Address, "@") {
		bad["address"] = "must be a whole email address"
	}
	return bad
}

// terms turns the query's criteria into blind-index terms.
func (q *Query) terms(keys *tenant.Keys) [][]byte {
	ix := newIndexer(keys)
	var out [][]byte
	add := func(field, word string) { out = append(out, ix.term(field, word)) }
	words := func(field, text string) {
		for _, w := range Words(text) {
			add(field, w)
		}
	}
	who := func(field, addrField, v string) {
		if v == "" {
			return
		}
		if strings.Contains(v, "@") {
			add(addrField, NormalizeAddress(v))
			return
		}
		words(field, v)
	}
	who(fieldFrom, fieldFromAddr, q.From)
	who(fieldTo, fieldToAddr, q.To)
	if q.Address != "" {
		add(fieldAddr, NormalizeAddress(q.Address))
	}
	words(fieldSubject, q.Subject)
	words(fieldBody, q.Body)
	if q.Attachment != "" {
		if strings.Contains(q.Attachment, ".") {
			add(fieldAttachment, NormalizeName(q.Attachment))
		} else {
			words(fieldAttachment, q.Attachment)
		}
	}
	if q.Direction != "" {
		add(fieldDirection, q.Direction)
	}
	if q.Tag != "" {
		add(fieldTag, NormalizeLabel(q.Tag))
	}
	if q.Campaign != "" {
		add(fieldCampaign, NormalizeLabel(q.Campaign))
	}
	return out
}

// Result is one entry found.
type Result struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Direction string    `json:"direction"`
	MessageID string    `json:"message_id,omitempty"`
	Size      int64     `json:"size"`
	Meta      *Meta     `json:"meta"`
}

// Page is a page of results and the cursor for the next ("" at the end).
type Page struct {
	Results []*Result `json:"results"`
	Next    string    `json:"next,omitempty"`
}

// Actor is who asks: recorded with every search, view and export.
type Actor struct {
	TenantID  string
	Principal string
	Client    string
}

// MaxPage is the largest page Search returns.
const MaxPage = 500

// Search runs q for the actor's tenant and records the search (its fields and the
// number of results, never the words) in the audit trail.
func (s *Service) Search(ctx context.Context, who Actor, q Query, cursor string, limit int) (*Page, error) {
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxPage {
		limit = 100
	}
	sq := store.ArchiveQuery{TenantID: who.TenantID, Terms: q.terms(keys), Since: q.Since, Until: q.Until, Limit: limit + 1}
	if cursor != "" {
		at, id, ok := parseCursor(cursor)
		if !ok {
			return nil, fmt.Errorf("%w: bad cursor", ErrInvalid)
		}
		sq.AfterAt, sq.AfterID = at, id
	}
	rows, err := s.db.ArchiveSearch(ctx, sq)
	if err != nil {
		return nil, err
	}
	page := &Page{Results: []*Result{}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		page.Next = strconv.FormatInt(last.At.UnixMilli(), 10) + "." + last.ID
	}
	for _, e := range rows {
		m, err := OpenMeta(keys, e)
		if err != nil {
			return nil, fmt.Errorf("open entry %s: %w", e.ID, err)
		}
		page.Results = append(page.Results, &Result{ID: e.ID, At: e.At, Direction: e.Direction, MessageID: e.MessageID, Size: e.Size, Meta: m})
	}
	err = s.db.AppendAudit(ctx, &store.AuditEntry{At: s.now(), TenantID: who.TenantID, Principal: who.Principal, Action: ActionSearch,
		Result: "ok", Client: who.Client, Detail: fmt.Sprintf("fields=%s results=%d", q.Fields(), len(page.Results))})
	return page, err
}

// ErrInvalid marks a request the caller must change.
var ErrInvalid = fmt.Errorf("invalid archive request")

func parseCursor(c string) (time.Time, string, bool) {
	ms, id, ok := strings.Cut(c, ".")
	if !ok || id == "" {
		return time.Time{}, "", false
	}
	v, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, "", false
	}
	return time.UnixMilli(v).UTC(), id, true
}

// Entry is an opened entry.
type Entry struct {
	Result
	Raw []byte `json:"-"`
}

// Show opens one entry for the actor and records the view. A purged entry answers
// ErrPurged; another tenant's, store.ErrNotFound.
func (s *Service) Show(ctx context.Context, who Actor, id string) (*Entry, error) {
	keys, err := s.keys.Keys(ctx, who.TenantID)
	if err != nil {
		return nil, err
	}
	e, err := s.db.ArchiveEntry(ctx, who.TenantID, id)
	if err != nil {
		return nil, err
	}
	result := "ok"
	raw, oerr := OpenContent(ctx, s.db, keys, e)
	var m *Meta
	if oerr == nil {
		m, oerr = OpenMeta(keys, e)
	}
	if oerr != nil {
		result = "error: cannot open"
	}
	if err := s.db.AppendAudit(ctx, &store.AuditEntry{At: s.now(), TenantID: who.TenantID, Principal: who.Principal, Action: ActionView,
		Object: id, Result: result, Client: who.Client}); err != nil {
		return nil, err
	}
	if oerr != nil {
		return nil, oerr
	}
	return &Entry{Result: Result{ID: e.ID, At: e.At, Direction: e.Direction, MessageID: e.MessageID, Size: e.Size, Meta: m}, Raw: raw}, nil
}
