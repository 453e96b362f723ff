package api

import (
	"errors"
	"html"
	"net/http"
	"sort"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/tenant"
)

// The archive's routes. Search criteria travel in request bodies, never in URLs: the
// words searched for may be health information.

// ArchiveSearchRequest is the body of POST /v1/archive/search.
type ArchiveSearchRequest struct {
	Query  archive.Query `json:"query"`
	Cursor string        `json:"cursor,omitempty"`
	Limit  int           `json:"limit,omitempty"`
}

// ArchiveExportRequest is the body of POST /v1/archive/export.
type ArchiveExportRequest struct {
	Format string        `json:"format,omitempty"`
	Query  archive.Query `json:"query"`
}

// ArchiveHoldRequest is the body of POST /v1/archive/holds.
type ArchiveHoldRequest struct {
	Name    string         `json:"name"`
	Since   time.Time      `json:"since,omitzero"`
	Until   time.Time      `json:"until,omitzero"`
	Address string         `json:"address,omitempty"`
	Query   *archive.Query `json:"query,omitempty"`
}

// ArchiveRuleRequest is the body of PUT /v1/archive/retention.
type ArchiveRuleRequest struct {
	Direction string `json:"direction,omitempty"`
	Tag       string `json:"tag,omitempty"`
	Campaign  string `json:"campaign,omitempty"`
	Days      int    `json:"days"`
}

// ArchiveEntryView is one opened entry: its description and its text as the portal's
// viewer reads it. The HTML body is served sanitised by the view route only.
type ArchiveEntryView struct {
	archive.Result
	Text        string   `json:"text"`
	HasHTML     bool     `json:"has_html"`
	Attachments []string `json:"attachments"`
	Incomplete  bool     `json:"incomplete"`
}

func archiveActor(r *http.Request, p *tenant.Principal) archive.Actor {
	return archive.Actor{TenantID: p.TenantID, Principal: "key:" + p.KeyID, Client: clientIP(r)}
}

// archiveProblem turns the archive's refusals into problems naming their fields.
func archiveProblem(err error, prefix string) error {
	var inv *archive.InvalidError
	switch {
	case errors.As(err, &inv):
		var fields []FieldProblem
		for f, d := range inv.Fields {
			fields = append(fields, FieldProblem{Field: prefix + f, Detail: d})
		}
		sort.Slice(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
		return problem(400, "Invalid request", fields[0].Field+": "+fields[0].Detail, fields...)
	case errors.Is(err, archive.ErrInvalid):
		return problem(400, "Invalid request", err.Error())
	case errors.Is(err, archive.ErrPurged):
		return problem(410, "Gone", "this archive entry was purged under the retention rules; its content is destroyed")
	case errors.Is(err, archive.ErrHoldsChanged):
		return problem(409, "Conflict", err.Error())
	}
	return err
}

func (s *Server) archiveSearch(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var req ArchiveSearchRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if bad := req.Query.Validate(); len(bad) > 0 {
		return archiveProblem(&archive.InvalidError{Fields: bad}, "query.")
	}
	if req.Limit < 0 || req.Limit > archive.MaxPage {
		return badField("limit", "must be 1-%d", archive.MaxPage)
	}
	page, err := s.Archive.Search(r.Context(), archiveActor(r, p), req.Query, req.Cursor, req.Limit)
	if err != nil {
		return archiveProblem(err, "")
	}
	writeJSON(w, 200, page)
	return nil
}

func (s *Server) archiveEntry(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	e, err := s.Archive.Show(r.Context(), archiveActor(r, p), r.PathValue("id"))
	if err != nil {
		return archiveProblem(err, "")
	}
	m, err := view.Parse(e.Raw, view.Limits{})
	if err != nil {
		m = &view.Message{Incomplete: true}
	}
	out := ArchiveEntryView{Result: e.Result, Text: m.Text, HasHTML: m.HTML != "", Attachments: []string{}, Incomplete: m.Incomplete}
	for _, a := range m.Attachments {
		out.Attachments = append(out.Attachments, a.Filename)
	}
	writeJSON(w, 200, out)
	return nil
}

// archiveView serves the entry as the portal shows a message: HTML through the
// portal's sanitiser, in a document that may load nothing and run nothing.
func (s *Server) archiveView(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	e, err := s.Archive.Show(r.Context(), archiveActor(r, p), r.PathValue("id"))
	if err != nil {
		return archiveProblem(err, "")
	}
	m, err := view.Parse(e.Raw, view.Limits{})
	if err != nil {
		m = &view.Message{}
	}
	fragment := "<pre>" + html.EscapeString(m.Text) + "</pre>"
	if m.HTML != "" {
		fragment = view.Sanitize(m.HTML, func(string) string { return "" })
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(200)
	_, err = w.Write([]byte(view.Document(fragment))) // #nosec G705 -- text escaped or HTML through the portal's sanitizer, served under a sandbox CSP that runs nothing
	return err
}

func (s *Server) archiveRaw(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	e, err := s.Archive.Show(r.Context(), archiveActor(r, p), r.PathValue("id"))
	if err != nil {
		return archiveProblem(err, "")
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.ID+`.eml"`)
	w.WriteHeader(200)
	_, err = w.Write(e.Raw) // #nosec G705 -- a download (message/rfc822, Content-Disposition: attachment), never rendered as HTML
	return err
}

func (s *Server) archiveExport(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var req ArchiveExportRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Format == "" {
		req.Format = archive.FormatZip
	}
	bad := req.Query.Validate()
	if req.Format != archive.FormatZip && req.Format != archive.FormatMbox {
		bad["format"] = "must be zip or mbox"
	}
	if len(bad) > 0 {
		inv := &archive.InvalidError{Fields: map[string]string{}}
		for f, d := range bad {
			if f != "format" {
				f = "query." + f
			}
			inv.Fields[f] = d
		}
		return archiveProblem(inv, "")
	}
	if s.ArchiveKey == nil {
		return problem(503, "Service unavailable", "no export signing key is configured")
	}
	// Once the first byte is out, a failure can only cut the stream short: the bundle
	// then fails verification (its manifest is written last), which is what tells.
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="archive-export.zip"`)
	if _, err := s.Archive.Export(r.Context(), archiveActor(r, p), req.Query, req.Format, s.ArchiveKey, w); err != nil {
		s.Log.Warn("archive export failed", "err", err)
	}
	return nil
}

func (s *Server) archiveHolds(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	holds, err := s.Archive.Holds(r.Context(), archiveActor(r, p), r.URL.Query().Get("all") == "true")
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"holds": holds})
	return nil
}

func (s *Server) archivePlaceHold(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var req ArchiveHoldRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	h, err := s.Archive.PlaceHold(r.Context(), archiveActor(r, p), archive.Hold{Name: req.Name, Since: req.Since, Until: req.Until, Address: req.Address, Query: req.Query})
	if err != nil {
		return archiveProblem(err, "")
	}
	writeJSON(w, 201, h)
	return nil
}

func (s *Server) archiveReleaseHold(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Archive.ReleaseHold(r.Context(), archiveActor(r, p), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) archiveRules(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	rules, err := s.Archive.Rules(r.Context(), archiveActor(r, p))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"default_days": archive.DefaultDays, "rules": rules})
	return nil
}

func (s *Server) archiveSetRule(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var req ArchiveRuleRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	rule, err := s.Archive.SetRule(r.Context(), archiveActor(r, p), archive.Rule{Direction: req.Direction, Tag: req.Tag, Campaign: req.Campaign, Days: req.Days})
	if err != nil {
		return archiveProblem(err, "")
	}
	writeJSON(w, 200, rule)
	return nil
}

func (s *Server) archiveDeleteRule(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	if err := s.Archive.DeleteRule(r.Context(), archiveActor(r, p), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(204)
	return nil
}

func (s *Server) archivePurge(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	rep, err := s.Archive.Purge(r.Context(), archiveActor(r, p))
	if err != nil {
		return archiveProblem(err, "")
	}
	writeJSON(w, 200, rep)
	return nil
}

func (s *Server) archiveVerify(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	rep, err := archive.Verify(r.Context(), s.DB, p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, rep)
	return nil
}

// readJSON reads and strictly decodes a request body.
func readJSON(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}
