package web

import (
	"crypto/sha256"
	_ "embed" // the chart files
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// The reports pages: statistics split by a dimension, with a CSV download, and the
// compliance reports. Each calls the report service the API routes call, and is open
// exactly when the API route it mirrors would be.

// uPlot (MIT, static/uplot/LICENSE) is vendored so the binary needs no network and
// the build no Node: scripts/vendor-uplot.sh fetches the same files with npm.
var (
	//go:embed static/uplot/uPlot.iife.min.js
	uplotJS []byte
	//go:embed static/uplot/uPlot.min.css
	uplotCSS []byte
	//go:embed static/charts.js
	chartsJS []byte
)

func (s *Server) reportRoutes() {
	s.mux.HandleFunc("GET /app/static/uplot.js", staticFile(uplotJS, "text/javascript; charset=utf-8"))
	s.mux.HandleFunc("GET /app/static/uplot.css", staticFile(uplotCSS, "text/css; charset=utf-8"))
	s.mux.HandleFunc("GET /app/static/charts.js", staticFile(chartsJS, "text/javascript; charset=utf-8"))
	s.handle("GET /app/reports", people.StageFull, s.reportsPage)
	s.handle("GET /app/reports/stats.csv", people.StageFull, s.reportsCSV)
	s.handle("GET /app/compliance/dlp", people.StageFull, s.dlpPage)
	s.handle("GET /app/compliance/disclosures", people.StageFull, s.disclosuresPage)
	s.handle("GET /app/compliance/disclosures.csv", people.StageFull, s.disclosuresCSV)
}

// staticFile serves an embedded file with a validator, cached for an hour.
func staticFile(b []byte, contentType string) http.HandlerFunc {
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(b)
	}
}

// reportPeriods are the ranges a report page offers, ending with the current hour.
type reportPeriod struct {
	key, label string
	d          time.Duration
}

var reportPeriods = []reportPeriod{
	{"24h", "Last 24 hours", 24 * time.Hour}, {"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour}, {"90d", "Last 90 days", 90 * 24 * time.Hour},
}

// reportGroups are the splits the page offers, as GET /v1/stats names them.
var reportGroups = []struct{ key, label string }{
	{"", "Everything together"}, {"domain", "Recipient domain"}, {"campaign", "Campaign"}, {"tag", "Tag"},
	{"from", "From address"}, {"subject", "Subject"}, {"method", "Security method"}, {"metadata", "Custom field (metadata key)"},
}

type option struct {
	Value, Label string
	Selected     bool
}

type reportsData struct {
	Periods, Groups []option
	Field           string // the metadata key, when grouping by a custom field
	From, To        time.Time
	Result          *report.Result
	CSV             string // the download's URL
}

// reportQuery reads the page's form: a period and a grouping. It answers the query
// for the report service and the form as the page shows it again.
func (s *Server) reportQuery(q *request) (report.Query, reportsData) {
	v := q.r.URL.Query()
	d := reportsData{Field: strings.TrimSpace(v.Get("field"))}
	period := v.Get("period")
	if !slices.ContainsFunc(reportPeriods, func(p reportPeriod) bool { return p.key == period }) {
		period = "7d"
	}
	d.To = periodEnd(s.People.Now())
	for _, p := range reportPeriods {
		d.Periods = append(d.Periods, option{p.key, p.label, p.key == period})
		if p.key == period {
			d.From = d.To.Add(-p.d)
		}
	}
	group := v.Get("group_by")
	for _, g := range reportGroups {
		d.Groups = append(d.Groups, option{g.key, g.label, g.key == group})
	}
	rq := report.Query{From: d.From, To: d.To, GroupBy: group}
	if group == "metadata" {
		rq.GroupBy = "metadata." + d.Field
	}
	return rq, d
}

func (s *Server) reportsPage(q *request) error {
	if err := s.require(q, "GET", "/v1/stats"); err != nil {
		return err
	}
	rq, d := s.reportQuery(q)
	v := q.view(s, "Reports")
	res, err := s.Reports.Stats(q.ctx, q.sess.TenantID, rq)
	var inv *report.InvalidError
	switch {
	case errors.As(err, &inv):
		v.Error = reportProblem(inv)
	case err != nil:
		return err
	default:
		d.Result = res
		d.CSV = "/app/reports/stats.csv?" + url.Values{"from": {d.From.Format(time.RFC3339)}, "to": {d.To.Format(time.RFC3339)}, "group_by": {rq.GroupBy}}.Encode()
	}
	v.Data = d
	status := http.StatusOK
	if v.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	return s.pages.render(q.w, status, "reports", v)
}

// reportsCSV is GET /v1/stats?format=csv for a signed-in person: the same query
// parameters, the same service, the same writer, so the files are equal.
func (s *Server) reportsCSV(q *request) error {
	if err := s.require(q, "GET", "/v1/stats"); err != nil {
		return err
	}
	v := q.r.URL.Query()
	rq := report.Query{GroupBy: v.Get("group_by")}
	from, ferr := time.Parse(time.RFC3339, v.Get("from"))
	to, terr := time.Parse(time.RFC3339, v.Get("to"))
	rq.From, rq.To = from, to
	if ferr != nil || terr != nil {
		rq.From, rq.To = time.Time{}, time.Time{} // reported by Check below
	}
	res, err := s.Reports.Stats(q.ctx, q.sess.TenantID, rq)
	var inv *report.InvalidError
	if errors.As(err, &inv) {
		v := q.view(s, "Reports")
		v.Error = reportProblem(inv)
		return s.pages.render(q.w, http.StatusUnprocessableEntity, "problem", v)
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", `attachment; filename="stats.csv"`)
	return report.WriteCSV(q.w, res)
}

// reportProblem says every invalid field of a report query at once.
func reportProblem(inv *report.InvalidError) string {
	var parts []string
	for f, m := range inv.Fields {
		if f == "group_by" {
			f = "custom field"
		}
		parts = append(parts, f+": "+m)
	}
	slices.Sort(parts)
	return "The report cannot be made: " + strings.Join(parts, "; ") + "."
}

type complianceData struct {
	Periods  []option
	From, To time.Time
	Address  string
	DLP      *report.DLPSummary
	Account  *report.Accounting
	CSV      string // the accounting's download
}

// complianceRange reads the period of a compliance page.
func (s *Server) complianceRange(q *request) complianceData {
	_, d := s.reportQuery(q)
	return complianceData{Periods: d.Periods, From: d.From, To: d.To}
}

func (s *Server) dlpPage(q *request) error {
	if err := s.require(q, "GET", "/v1/reports/dlp"); err != nil {
		return err
	}
	d := s.complianceRange(q)
	res, err := s.Reports.DLP(q.ctx, q.sess.TenantID, d.From, d.To)
	if err != nil {
		return err
	}
	d.DLP = res
	v := q.view(s, "DLP findings")
	v.Data = d
	return s.pages.render(q.w, http.StatusOK, "dlp", v)
}

func (s *Server) disclosuresPage(q *request) error {
	if err := s.require(q, "GET", "/v1/reports/disclosures"); err != nil {
		return err
	}
	d := s.complianceRange(q)
	d.Address = strings.TrimSpace(q.r.URL.Query().Get("address"))
	v := q.view(s, "Accounting of disclosures")
	status := http.StatusOK
	if d.Address != "" {
		res, err := s.Reports.Disclosures(q.ctx, q.sess.TenantID, d.Address, d.From, d.To)
		var inv *report.InvalidError
		switch {
		case errors.As(err, &inv):
			v.Error, status = reportProblem(inv), http.StatusUnprocessableEntity
		case err != nil:
			return err
		default:
			d.Account = res
			d.CSV = "/app/compliance/disclosures.csv?" + url.Values{"address": {d.Address}, "from": {d.From.Format(time.RFC3339)}, "to": {d.To.Format(time.RFC3339)}}.Encode()
		}
	}
	v.Data = d
	return s.pages.render(q.w, status, "disclosures", v)
}

// disclosuresCSV is GET /v1/reports/disclosures?format=csv for a signed-in person.
func (s *Server) disclosuresCSV(q *request) error {
	if err := s.require(q, "GET", "/v1/reports/disclosures"); err != nil {
		return err
	}
	v := q.r.URL.Query()
	from, _ := time.Parse(time.RFC3339, v.Get("from")) // zero when invalid: the service says so
	to, _ := time.Parse(time.RFC3339, v.Get("to"))
	res, err := s.Reports.Disclosures(q.ctx, q.sess.TenantID, v.Get("address"), from, to)
	var inv *report.InvalidError
	if errors.As(err, &inv) {
		pv := q.view(s, "Accounting of disclosures")
		pv.Error = reportProblem(inv)
		return s.pages.render(q.w, http.StatusUnprocessableEntity, "problem", pv)
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", `attachment; filename="disclosures.csv"`)
	return report.WriteDisclosuresCSV(q.w, res)
}
