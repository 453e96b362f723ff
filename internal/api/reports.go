package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/tenant"
)

// getStats serves GET /v1/stats: a thin wrapper over report.Service.Stats, as JSON or
// (format=csv, or Accept: text/csv) CSV with the same numbers.
func (s *Server) getStats(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	q := r.URL.Query()
	var fields []FieldProblem
	rq := report.Query{Interval: q.Get("interval"), GroupBy: q.Get("group_by")}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &rq.From}, {"to", &rq.To}} {
		if v := q.Get(tf.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fields = append(fields, FieldProblem{Field: tf.name, Detail: "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"})
				continue
			}
			*tf.dst = t
		}
	}
	format, err := exportFormat(r)
	if err != nil {
		fields = append(fields, FieldProblem{Field: "format", Detail: err.Error()})
	}
	if p.Sandbox {
		// Statistics never count sandbox traffic; a sandbox key would read only zeros.
		return problem(403, "Forbidden", "statistics count live traffic only; use a live key")
	}
	res, err := s.reports().Stats(r.Context(), p.TenantID, rq)
	var inv *report.InvalidError
	if errors.As(err, &inv) {
		for f, d := range inv.Fields {
			if !slices.ContainsFunc(fields, func(fp FieldProblem) bool { return fp.Field == f }) {
				fields = append(fields, FieldProblem{Field: f, Detail: d})
			}
		}
	} else if err != nil {
		return err
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	return writeExport(w, format, "stats", res, func(w http.ResponseWriter) error { return report.WriteCSV(w, res) })
}

func (s *Server) reports() *report.Service {
	if s.Reports != nil {
		return s.Reports
	}
	return report.New(s.DB, s.Tenants)
}

// invalidFields is one problem naming every invalid field, in a stable order.
func invalidFields(fields []FieldProblem) *Problem {
	slices.SortFunc(fields, func(a, b FieldProblem) int { return strings.Compare(a.Field, b.Field) })
	var parts []string
	for _, f := range fields {
		parts = append(parts, f.Field+": "+f.Detail)
	}
	return problem(400, "Invalid request", strings.Join(parts, "; "), fields...)
}

// exportFormat reads the format a report is wanted in: ?format= first, then Accept.
func exportFormat(r *http.Request) (string, error) {
	if f := r.URL.Query().Get("format"); f != "" {
		if !slices.Contains(report.Formats, f) {
			return "json", errors.New("one of " + strings.Join(report.Formats, ", "))
		}
		return f, nil
	}
	if strings.Contains(r.Header.Get("Accept"), "text/csv") {
		return "csv", nil
	}
	return "json", nil
}

// writeExport writes a report as JSON, or as a CSV attachment.
func writeExport(w http.ResponseWriter, format, name string, v any, csv func(http.ResponseWriter) error) error {
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		w.WriteHeader(200)
		return csv(w)
	}
	writeJSON(w, 200, v)
	return nil
}

// getDisclosures serves GET /v1/reports/disclosures: the accounting of disclosures for
// one address (HIPAA §164.528), as JSON or CSV.
func (s *Server) getDisclosures(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	from, to, fields := reportRange(r)
	format, err := exportFormat(r)
	if err != nil {
		fields = append(fields, FieldProblem{Field: "format", Detail: err.Error()})
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	res, err := s.reports().Disclosures(r.Context(), p.TenantID, r.URL.Query().Get("address"), from, to)
	if err := reportProblem(err); err != nil {
		return err
	}
	return writeExport(w, format, "disclosures", res, func(w http.ResponseWriter) error { return report.WriteDisclosuresCSV(w, res) })
}

// getDLPReport serves GET /v1/reports/dlp: DLP findings by category and action, and
// quarantines.
func (s *Server) getDLPReport(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	from, to, fields := reportRange(r)
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	res, err := s.reports().DLP(r.Context(), p.TenantID, from, to)
	if err := reportProblem(err); err != nil {
		return err
	}
	writeJSON(w, 200, res)
	return nil
}

func reportRange(r *http.Request) (from, to time.Time, fields []FieldProblem) {
	q := r.URL.Query()
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		t, err := time.Parse(time.RFC3339, q.Get(tf.name))
		if err != nil {
			fields = append(fields, FieldProblem{Field: tf.name, Detail: "required: an RFC 3339 time such as 2026-01-02T15:04:05Z"})
			continue
		}
		*tf.dst = t
	}
	return from, to, fields
}

// reportProblem turns a report's invalid query into a problem naming its fields.
func reportProblem(err error) error {
	var inv *report.InvalidError
	if errors.As(err, &inv) {
		var fields []FieldProblem
		for f, d := range inv.Fields {
			fields = append(fields, FieldProblem{Field: f, Detail: d})
		}
		return invalidFields(fields)
	}
	return err
}

// getAnomalies serves GET /v1/reports/anomalies: access anomalies per credential, as
// JSON or CSV.
func (s *Server) getAnomalies(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	from, to, fields := reportRange(r)
	format, err := exportFormat(r)
	if err != nil {
		fields = append(fields, FieldProblem{Field: "format", Detail: err.Error()})
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	res, err := s.reports().Anomalies(r.Context(), p.TenantID, from, to)
	if err := reportProblem(err); err != nil {
		return err
	}
	return writeExport(w, format, "anomalies", res, func(w http.ResponseWriter) error { return report.WriteAnomaliesCSV(w, res) })
}
