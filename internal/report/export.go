package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Formats a report can be exported in.
var Formats = []string{"json", "csv"}

// CSVHeader is the first row of a statistics CSV: one row per group's totals (start
// empty), then one per step of its series.
var CSVHeader = []string{"group_by", "key", "label", "start",
	"accepted", "in_queue", "delivered", "deferred", "bounced", "expired", "failed",
	"opened", "opened_proxy", "opened_machine", "clicked", "clicked_proxy", "clicked_machine",
	"unsubscribed", "complained",
	"secured_tls", "secured_pgp", "secured_smime", "secured_portal", "secured_none",
	"delivery_rate", "open_rate", "click_through_rate", "click_to_open_rate"}

// WriteJSON writes a report as JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteCSV writes a statistics report as CSV with the same numbers as its JSON.
func WriteCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, g := range r.Groups {
		if err := cw.Write(csvRow(r.GroupBy, g, time.Time{}, g.Totals)); err != nil {
			return err
		}
		for _, p := range g.Series {
			if err := cw.Write(csvRow(r.GroupBy, g, p.Start, p.Counts)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(groupBy string, g Group, start time.Time, c Counts) []string {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	s := ""
	if !start.IsZero() {
		s = start.UTC().Format(time.RFC3339)
	}
	q := ""
	if c.InQueue != nil {
		q = n(*c.InQueue)
	}
	return []string{groupBy, g.Key, csvSafe(g.Label), s,
		n(c.Accepted), q, n(c.Delivered), n(c.Deferred), n(c.Bounced), n(c.Expired), n(c.Failed),
		n(c.Opened), n(c.OpenedProxy), n(c.OpenedMachine), n(c.Clicked), n(c.ClickedProxy), n(c.ClickedMachine),
		n(c.Unsubscribed), n(c.Complained),
		n(c.Secured.TLS), n(c.Secured.PGP), n(c.Secured.SMIME), n(c.Secured.Portal), n(c.Secured.None),
		f(c.Rates.Delivery), f(c.Rates.Open), f(c.Rates.ClickThrough), f(c.Rates.ClickToOpen)}
}

// csvSafe keeps a caller's text (a subject, a campaign name) from being read as a
// formula when the file is opened in a spreadsheet (CWE-1236).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
