package web

import (
	"errors"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	mailview "github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// The archive page: search, open an entry, legal holds and retention rules. Every
// action calls the archive service the API calls, allowed exactly when the API route
// it mirrors would be, and the service audits it as it audits the API. Search
// criteria travel in POST bodies, never in URLs.

func (s *Server) archiveRoutes() {
	page := func(pattern string, method, route string, h func(*request) error) {
		s.handle(pattern, people.StageFull, func(q *request) error {
			if s.Archive == nil {
				return store.ErrNotFound
			}
			if err := s.require(q, method, route); err != nil {
				return err
			}
			return h(q)
		})
	}
	page("GET /app/archive", "POST", "/v1/archive/search", func(q *request) error { return s.archivePage(q, archiveForm{}, nil, "", "", 200) })
	page("POST /app/archive/search", "POST", "/v1/archive/search", s.archiveSearch)
	page("GET /app/archive/entries/{id}", "GET", "/v1/archive/entries/{id}", s.archiveEntry)
	page("GET /app/archive/entries/{id}/view", "GET", "/v1/archive/entries/{id}/view", s.archiveView)
	page("POST /app/archive/holds", "POST", "/v1/archive/holds", s.archivePlaceHold)
	page("POST /app/archive/holds/{id}/release", "POST", "/v1/archive/holds/{id}/release", s.archiveReleaseHold)
	page("POST /app/archive/retention", "PUT", "/v1/archive/retention", s.archiveSetRule)
	page("POST /app/archive/retention/{id}/delete", "DELETE", "/v1/archive/retention/{id}", s.archiveDeleteRule)
}

// archiveForm is the search form as typed, shown again with its results.
type archiveForm struct {
	Since, Until, From, To, Subject, Body, Attachment, Direction, Tag string
}

type archiveData struct {
	Form     archiveForm
	Searched bool
	Results  []*archive.Result
	Holds    []*archive.Hold
	Rules    []*archive.Rule
	Default  int
}

func (q *request) archiveActor() archive.Actor {
	return archive.Actor{TenantID: q.sess.TenantID, Principal: "user:" + q.sess.UserID, Client: q.client()}
}

// archivePage renders the page; results is nil unless a search ran.
func (s *Server) archivePage(q *request, f archiveForm, results []*archive.Result, notice, problem string, status int) error {
	holds, err := s.Archive.Holds(q.ctx, q.archiveActor(), false)
	if err != nil {
		return err
	}
	rules, err := s.Archive.Rules(q.ctx, q.archiveActor())
	if err != nil {
		return err
	}
	v := q.view(s, "Archive")
	v.Notice, v.Error = notice, problem
	v.Data = archiveData{Form: f, Searched: results != nil, Results: results, Holds: holds, Rules: rules, Default: archive.DefaultDays}
	return s.pages.render(q.w, status, "archive", v)
}

// formDate reads a yyyy-mm-dd field as the start of that day in UTC; end dates are
// the day after, so a range includes its last day.
func formDate(v string, end bool, field string, bad map[string]string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		bad[field] = "must be a date such as 2026-06-01"
		return time.Time{}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// problems lists every field problem in one sentence, fields in order.
func problems(bad map[string]string) string {
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + bad[k]
	}
	return "Please correct: " + strings.Join(parts, "; ") + "."
}

func (s *Server) archiveSearch(q *request) error {
	r := q.r
	f := archiveForm{Since: r.PostFormValue("since"), Until: r.PostFormValue("until"), From: r.PostFormValue("from"), To: r.PostFormValue("to"),
		Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body"), Attachment: r.PostFormValue("attachment"),
		Direction: r.PostFormValue("direction"), Tag: r.PostFormValue("tag")}
	bad := map[string]string{}
	query := archive.Query{Since: formDate(f.Since, false, "since", bad), Until: formDate(f.Until, true, "until", bad),
		From: strings.TrimSpace(f.From), To: strings.TrimSpace(f.To), Subject: f.Subject, Body: f.Body,
		Attachment: strings.TrimSpace(f.Attachment), Direction: f.Direction, Tag: strings.TrimSpace(f.Tag)}
	for k, m := range query.Validate() {
		bad[k] = m
	}
	if len(bad) > 0 {
		return s.archivePage(q, f, nil, "", problems(bad), http.StatusUnprocessableEntity)
	}
	page, err := s.Archive.Search(q.ctx, q.archiveActor(), query, "", 100)
	if err != nil {
		return err
	}
	notice := strconv.Itoa(len(page.Results)) + " messages found."
	if page.Next != "" {
		notice = "The first 100 messages found are shown; narrow the search to see the rest."
	}
	return s.archivePage(q, f, page.Results, notice, "", http.StatusOK)
}

type archiveEntryData struct {
	Entry *archive.Entry
	Text  string
}

func (s *Server) archiveEntry(q *request) error {
	e, err := s.Archive.Show(q.ctx, q.archiveActor(), q.r.PathValue("id"))
	if errors.Is(err, archive.ErrPurged) {
		v := q.view(s, "Archived message")
		v.Error = "This message was purged under the retention rules; its content is destroyed."
		return s.pages.render(q.w, http.StatusGone, "problem", v)
	}
	if err != nil {
		return err
	}
	m, err := mailview.Parse(e.Raw, mailview.Limits{})
	if err != nil {
		m = &mailview.Message{}
	}
	v := q.view(s, "Archived message")
	v.Data = archiveEntryData{Entry: e, Text: m.Text}
	return s.pages.render(q.w, http.StatusOK, "archive_entry", v)
}

// archiveView is the message as the portal shows it: HTML through the portal's
// sanitiser, in a document under a CSP that loads nothing and runs nothing.
func (s *Server) archiveView(q *request) error {
	e, err := s.Archive.Show(q.ctx, q.archiveActor(), q.r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := mailview.Parse(e.Raw, mailview.Limits{})
	if err != nil {
		m = &mailview.Message{}
	}
	fragment := "<pre>" + html.EscapeString(m.Text) + "</pre>"
	if m.HTML != "" {
		fragment = mailview.Sanitize(m.HTML, func(string) string { return "" })
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	q.w.WriteHeader(http.StatusOK)
	_, err = q.w.Write([]byte(mailview.Document(fragment))) // #nosec G705 -- text escaped or HTML through the portal's sanitizer, served under a sandbox CSP that runs nothing
	return err
}

func (s *Server) archivePlaceHold(q *request) error {
	r := q.r
	bad := map[string]string{}
	h := archive.Hold{Name: strings.TrimSpace(r.PostFormValue("name")), Since: formDate(r.PostFormValue("since"), false, "since", bad),
		Until: formDate(r.PostFormValue("until"), true, "until", bad), Address: strings.TrimSpace(r.PostFormValue("address"))}
	if subj, body := r.PostFormValue("subject"), r.PostFormValue("body"); strings.TrimSpace(subj+body) != "" {
		h.Query = &archive.Query{Subject: subj, Body: body}
	}
	for k, m := range h.Validate() {
		bad[k] = m
	}
	if len(bad) > 0 {
		return s.archivePage(q, archiveForm{}, nil, "", problems(bad), http.StatusUnprocessableEntity)
	}
	if _, err := s.Archive.PlaceHold(q.ctx, q.archiveActor(), h); err != nil {
		return err
	}
	return s.archivePage(q, archiveForm{}, nil, "The hold was placed: nothing it matches will be purged until it is released.", "", http.StatusOK)
}

func (s *Server) archiveReleaseHold(q *request) error {
	if err := s.Archive.ReleaseHold(q.ctx, q.archiveActor(), q.r.PathValue("id")); err != nil {
		return err
	}
	return s.archivePage(q, archiveForm{}, nil, "The hold was released.", "", http.StatusOK)
}

func (s *Server) archiveSetRule(q *request) error {
	r := q.r
	rule := archive.Rule{Direction: r.PostFormValue("direction"), Tag: strings.TrimSpace(r.PostFormValue("tag")), Campaign: strings.TrimSpace(r.PostFormValue("campaign"))}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	bad := map[string]string{}
	if err != nil {
		bad["days"] = "must be a whole number of days"
	} else {
		rule.Days = days
		for k, m := range rule.Validate() {
			bad[k] = m
		}
	}
	if len(bad) > 0 {
		return s.archivePage(q, archiveForm{}, nil, "", problems(bad), http.StatusUnprocessableEntity)
	}
	if _, err := s.Archive.SetRule(q.ctx, q.archiveActor(), rule); err != nil {
		return err
	}
	return s.archivePage(q, archiveForm{}, nil, "The retention rule was saved.", "", http.StatusOK)
}

func (s *Server) archiveDeleteRule(q *request) error {
	if err := s.Archive.DeleteRule(q.ctx, q.archiveActor(), q.r.PathValue("id")); err != nil {
		return err
	}
	return s.archivePage(q, archiveForm{}, nil, "The retention rule was deleted.", "", http.StatusOK)
}
