package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/dlp"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/secureline"
)

// Disclosure is one entry of an accounting of disclosures (HIPAA §164.528): a message
// with PHI findings sent to the address, and how that copy was secured.
type Disclosure struct {
	MessageID   string    `json:"message_id"`
	AcceptedAt  time.Time `json:"accepted_at"`
	From        string    `json:"from"`
	Subject     string    `json:"subject"`
	Categories  []string  `json:"categories"` // what DLP found: categories, never the values
	Status      string    `json:"status"`
	UpdatedAt   time.Time `json:"updated_at"`
	Method      string    `json:"method"` // tls, pgp, smime, portal; "" until delivered
	TLSVersion  string    `json:"tls_version,omitempty"`
	TLSVerified bool      `json:"tls_verified,omitempty"`
	MX          string    `json:"mx,omitempty"`
	Reasons     []string  `json:"reasons,omitempty"`
}

// Accounting is the accounting of disclosures for one address over a range.
type Accounting struct {
	Address     string       `json:"address"`
	From        time.Time    `json:"from"`
	To          time.Time    `json:"to"`
	Disclosures []Disclosure `json:"disclosures"`
}

// Disclosures lists every message with PHI findings sent to address in [from, to),
// with how each copy was secured. The address is matched by its keyed hash.
func (s *Service) Disclosures(ctx context.Context, tenantID, address string, from, to time.Time) (*Accounting, error) {
	bad := map[string]string{}
	a, err := message.ParseAddress(address)
	if err != nil {
		bad["address"] = err.Error()
	}
	if from.IsZero() || to.IsZero() || !to.After(from) {
		bad["to"] = "from and to are required, to after from"
	}
	if len(bad) > 0 {
		return nil, &InvalidError{Fields: bad}
	}
	keys, err := s.keys.Keys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Disclosures(ctx, tenantID, keys.AddressHash(a.Addr), from, to)
	if err != nil {
		return nil, err
	}
	out := &Accounting{Address: a.Addr, From: from.UTC(), To: to.UTC(), Disclosures: []Disclosure{}}
	for _, r := range rows {
		d := Disclosure{MessageID: r.Message.ID, AcceptedAt: r.Message.CreatedAt, Status: r.Recipient.Status, UpdatedAt: r.Recipient.UpdatedAt,
			Method: r.Recipient.Method, Categories: categories(r.Message.DLP)}
		if b, err := keys.Data.Open(r.Message.Envelope, "message/"+r.Message.ID+"/envelope"); err == nil {
			var env struct{ From, Subject string }
			_ = json.Unmarshal(b, &env)
			d.From, d.Subject = env.From, env.Subject
		}
		if st, err := secureline.OpenState(keys, r.Recipient.ID, r.Recipient.Security); err == nil && st != nil {
			d.Reasons = append(slices.Clone(st.Plan.Reasons), st.Reasons...)
			if ev := st.Evidence; ev != nil {
				d.MX = ev.MX
				if ev.TLS != nil {
					d.TLSVersion, d.TLSVerified = ev.TLS.Version, ev.TLS.Verified
				}
			}
		}
		out.Disclosures = append(out.Disclosures, d)
	}
	return out, nil
}

func categories(b []byte) []string {
	var fs []dlp.Finding
	_ = json.Unmarshal(b, &fs)
	out := []string{}
	for _, f := range fs {
		out = append(out, string(f.Category))
	}
	return out
}

// WriteDisclosuresCSV writes an accounting as CSV, one row per copy.
func WriteDisclosuresCSV(w io.Writer, a *Accounting) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"address", "message_id", "accepted_at", "from", "subject", "categories", "status", "updated_at", "method", "tls_version", "tls_verified", "mx", "reasons"})
	for _, d := range a.Disclosures {
		verified := ""
		if d.TLSVersion != "" {
			verified = map[bool]string{true: "true", false: "false"}[d.TLSVerified]
		}
		cw.Write([]string{csvSafe(a.Address), d.MessageID, d.AcceptedAt.Format(time.RFC3339), csvSafe(d.From), csvSafe(d.Subject), strings.Join(d.Categories, " "),
			d.Status, d.UpdatedAt.Format(time.RFC3339), d.Method, d.TLSVersion, verified, d.MX, csvSafe(strings.Join(d.Reasons, "; "))})
	}
	cw.Flush()
	return cw.Error()
}

// DLPSummary counts DLP findings by category and the action taken, and quarantines
// and their outcomes, over a range.
type DLPSummary struct {
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	Categories []DLPCategory    `json:"categories"`
	Quarantine map[string]int64 `json:"quarantine"` // quarantined, released, deleted events
}

// DLPCategory is one category's count of messages, by what happened to them.
type DLPCategory struct {
	Category    string `json:"category"`
	Messages    int64  `json:"messages"`
	Quarantined int64  `json:"quarantined"`
	Sent        int64  `json:"sent"` // secured per policy and queued
}

// DLP summarises findings and quarantines for one tenant.
func (s *Service) DLP(ctx context.Context, tenantID string, from, to time.Time) (*DLPSummary, error) {
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return nil, &InvalidError{Fields: map[string]string{"to": "from and to are required, to after from"}}
	}
	msgs, err := s.db.DLPMessages(ctx, tenantID, from, to)
	if err != nil {
		return nil, err
	}
	by := map[string]*DLPCategory{}
	for _, m := range msgs {
		for _, c := range categories(m.DLP) {
			if by[c] == nil {
				by[c] = &DLPCategory{Category: c}
			}
			by[c].Messages++
			if m.Quarantined {
				by[c].Quarantined++
			} else {
				by[c].Sent++
			}
		}
	}
	out := &DLPSummary{From: from.UTC(), To: to.UTC(), Categories: []DLPCategory{}}
	for _, c := range by {
		out.Categories = append(out.Categories, *c)
	}
	slices.SortFunc(out.Categories, func(a, b DLPCategory) int { return strings.Compare(a.Category, b.Category) })
	if out.Quarantine, err = s.db.EventCounts(ctx, tenantID, []string{"quarantined", "released", "deleted"}, from, to); err != nil {
		return nil, err
	}
	return out, nil
}
