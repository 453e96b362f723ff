package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/sealpost/sealpost/internal/quarantine"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// navPage registers a page of appPages, opened only for a role its entry allows.
func (s *Server) navPage(path string, h func(*request) error) {
	i := slices.IndexFunc(appPages, func(p appPage) bool { return p.path == path })
	s.handle("GET "+path, people.StageFull, func(q *request) error {
		if i < 0 || !s.mayOpen(q, appPages[i]) {
			return errForbidden
		}
		return h(q)
	})
}

// quarantineRoutes: the messages the policy held, and releasing or deleting one —
// through the quarantine service the API's routes call, under the same scope.
func (s *Server) quarantineRoutes() {
	s.navPage("/app/quarantine", s.quarantinePage)
	s.handle("POST /app/messages/{id}/release", people.StageFull, s.quarantineAction("POST", "/v1/messages/{id}/release", "released"))
	s.handle("POST /app/messages/{id}/delete", people.StageFull, s.quarantineAction("DELETE", "/v1/messages/{id}", "deleted"))
}

type quarantineData struct {
	Rows      []messageRow
	CanAct    bool
	CanDelete bool
}

func (s *Server) quarantinePage(q *request) error {
	ms, err := s.Quarantine.List(q.ctx, q.sess.TenantID, 100)
	if err != nil {
		return err
	}
	keys, err := s.Tenants.Keys(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	d := quarantineData{CanAct: s.can(q, "POST", "/v1/messages/{id}/release"), CanDelete: s.can(q, "DELETE", "/v1/messages/{id}")}
	for _, m := range ms {
		row := messageRow{ID: m.ID, At: m.CreatedAt, Quarantined: true}
		if env, err := openEnvelope(keys, m); err == nil {
			row.From, row.Subject = env.From, env.Subject
		}
		d.Rows = append(d.Rows, row)
	}
	v := q.view(s, "Quarantine")
	v.Data = d
	switch q.r.URL.Query().Get("done") {
	case "released":
		v.Notice = "The message was released and is on its way, each recipient by the default secure methods."
	case "deleted":
		v.Notice = "The message was deleted unsent and its content destroyed."
	}
	return s.pages.render(q.w, http.StatusOK, "quarantine", v)
}

// quarantineAction releases or deletes a held message, audited as the API route it
// mirrors; back to the page the button was on.
func (s *Server) quarantineAction(method, route, event string) func(*request) error {
	return func(q *request) error {
		if err := s.require(q, method, route); err != nil {
			return err
		}
		id := q.r.PathValue("id")
		act := s.Quarantine.Release
		if event == "deleted" {
			act = s.Quarantine.Delete
		}
		err := act(q.ctx, q.sess.TenantID, id)
		if errors.Is(err, quarantine.ErrNotQuarantined) {
			s.record(q, method+" "+route, id, "409")
			return q.redirect("/app/messages/" + id + "?held=gone")
		}
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				s.record(q, method+" "+route, id, "404")
			}
			return err
		}
		s.record(q, method+" "+route, id, "200")
		if q.r.PostFormValue("back") == "list" {
			return q.redirect("/app/quarantine?done=" + event)
		}
		return q.redirect("/app/messages/" + id + "?done=" + event)
	}
}
