package web

import (
	"net/http"
	"time"

	"github.com/sealpost/sealpost/internal/report"
)

// The overview: the last day, week and month as a table (the accessible version) and,
// for one chosen period, as charts drawn by uPlot from numbers the page carries in a
// JSON element. Every number comes from report.Service.Stats, the call behind
// GET /v1/stats, for the period the page names.

type overviewRow struct {
	Label string
	Type  string
	N     []int64
}

// overviewPeriod is one column of the table: the range asked of the report service.
type overviewPeriod struct {
	Key, Label string
	From, To   time.Time
	Current    bool
}

type overviewData struct {
	Periods []overviewPeriod
	Rows    []overviewRow
	// Queue is the tenant's live queue: how many copies wait, and since when.
	Queued     int64
	Oldest     time.Time
	Chart      chartData
	ChartLabel string
}

// chartData is what charts.js draws: x in Unix seconds, one array per series.
type chartData struct {
	X      []int64            `json:"x"`
	Series map[string][]int64 `json:"series"`
	Step   string             `json:"step"`
}

// overviewTypes are the table's rows; get reads a row's number from a report's totals.
var overviewTypes = []struct {
	typ, label string
	get        func(c report.Counts) int64
}{
	{"accepted", "Accepted", func(c report.Counts) int64 { return c.Accepted }},
	{"in_queue", "In queue now", func(c report.Counts) int64 { return deref(c.InQueue) }},
	{"delivered", "Delivered", func(c report.Counts) int64 { return c.Delivered }},
	{"secured.tls", "Secured by TLS", func(c report.Counts) int64 { return c.Secured.TLS }},
	{"secured.pgp", "Secured by OpenPGP", func(c report.Counts) int64 { return c.Secured.PGP }},
	{"secured.smime", "Secured by S/MIME", func(c report.Counts) int64 { return c.Secured.SMIME }},
	{"secured.portal", "Secured by the portal", func(c report.Counts) int64 { return c.Secured.Portal }},
	{"opened", "Opened (people)", func(c report.Counts) int64 { return c.Opened }},
	{"clicked", "Clicked (people)", func(c report.Counts) int64 { return c.Clicked }},
	{"opened_machine", "Opened by proxies and scanners", func(c report.Counts) int64 { return c.OpenedProxy + c.OpenedMachine }},
	{"clicked_machine", "Clicked by proxies and scanners", func(c report.Counts) int64 { return c.ClickedProxy + c.ClickedMachine }},
	{"deferred", "Deferred", func(c report.Counts) int64 { return c.Deferred }},
	{"bounced", "Bounced", func(c report.Counts) int64 { return c.Bounced }},
	{"expired", "Expired", func(c report.Counts) int64 { return c.Expired }},
	{"failed", "Failed", func(c report.Counts) int64 { return c.Failed }},
	{"unsubscribed", "Unsubscribed", func(c report.Counts) int64 { return c.Unsubscribed }},
	{"complained", "Complained", func(c report.Counts) int64 { return c.Complained }},
}

// chartSeries are the charted rows (names as in charts.js).
var chartSeries = []string{"accepted", "delivered", "opened", "clicked", "failed", "secured.tls", "secured.pgp", "secured.smime", "secured.portal"}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// overviewPeriods are the table's columns, with the step each one's chart takes.
var overviewPeriods = []struct {
	key, label, interval string
	d                    time.Duration
}{
	{"24h", "Last 24 hours", "hour", 24 * time.Hour},
	{"7d", "Last 7 days", "day", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", "day", 30 * 24 * time.Hour},
}

// periodEnd is the end of every period: the end of the current hour, as the rollups
// count by the hour, so what happened a moment ago is in.
func periodEnd(now time.Time) time.Time { return now.UTC().Truncate(time.Hour).Add(time.Hour) }

func (s *Server) overview(q *request) error {
	end := periodEnd(s.People.Now())
	chosen := q.r.URL.Query().Get("period")
	if chosen == "" {
		chosen = "7d"
	}
	d := overviewData{}
	totals := make([]report.Counts, len(overviewPeriods))
	for i, p := range overviewPeriods {
		op := overviewPeriod{Key: p.key, Label: p.label, From: end.Add(-p.d), To: end, Current: p.key == chosen}
		d.Periods = append(d.Periods, op)
		rq := report.Query{From: op.From, To: op.To}
		if op.Current {
			rq.Interval = p.interval
		}
		res, err := s.Reports.Stats(q.ctx, q.sess.TenantID, rq)
		if err != nil {
			return err
		}
		for _, g := range res.Groups { // no grouping: one group, or none before any mail
			totals[i] = g.Totals
			if op.Current {
				d.Chart = chart(g.Series, op.From, op.To, p.interval)
				d.ChartLabel = p.label
			}
		}
		if op.Current && d.Chart.X == nil {
			d.Chart = chart(nil, op.From, op.To, p.interval)
			d.ChartLabel = p.label
		}
	}
	for _, t := range overviewTypes {
		row := overviewRow{Label: t.label, Type: t.typ}
		for i := range overviewPeriods {
			row.N = append(row.N, t.get(totals[i]))
		}
		d.Rows = append(d.Rows, row)
	}
	n, oldest, err := s.DB.QueuedSince(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	d.Queued, d.Oldest = n, oldest
	v := q.view(s, "Overview")
	v.Data = d
	v.Scripts = []string{"/app/static/uplot.js", "/app/static/charts.js"}
	v.Styles = []string{"/app/static/uplot.css"}
	q.w.Header().Set("Content-Security-Policy", chartCSP)
	return s.pages.render(q.w, http.StatusOK, "overview", v)
}

// chartCSP is pageCSP with this origin's scripts allowed: only pages with charts send it.
const chartCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// chart lays a report's series on a dense time axis from..to, a zero where a step saw
// nothing, so the chart's x axis is even.
func chart(points []report.Point, from, to time.Time, interval string) chartData {
	step := time.Hour
	if interval == "day" {
		step = 24 * time.Hour
	}
	at := map[int64]report.Counts{}
	for _, p := range points {
		at[p.Start.Unix()] = p.Counts
	}
	c := chartData{Series: map[string][]int64{}, Step: interval}
	get := map[string]func(report.Counts) int64{}
	for _, t := range overviewTypes {
		get[t.typ] = t.get
	}
	for t := from.Truncate(step); t.Before(to); t = t.Add(step) {
		c.X = append(c.X, t.Unix())
		counts := at[t.Unix()]
		for _, name := range chartSeries {
			c.Series[name] = append(c.Series[name], get[name](counts))
		}
	}
	return c
}
