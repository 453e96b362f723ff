package web

import (
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// Journeys: the list with each journey's per-step counts, a form that creates one
// from its JSON definition (every problem listed by path), and the state buttons.
// Every rule is the journey service's, as for POST /v1/journeys.

type journeyRow struct {
	J      *journey.Journey
	Report *journey.Report
	// Next states the person may move it to, as the API's action names.
	Actions []string
}

type journeysData struct {
	Journeys  []journeyRow
	CanManage bool
	Draft     string   // the definition as typed, given back after a refusal
	Problems  []string // each "path: detail"
}

func (s *Server) journeyRoutes() {
	s.handle("POST /app/journeys", people.StageFull, s.createJourney)
	for _, a := range []string{"activate", "pause", "archive"} {
		s.handle("POST /app/journeys/{id}/"+a, people.StageFull, s.journeyAction(a))
	}
}

func (s *Server) journeysPage(q *request) error { return s.showJourneys(q, "", nil, "", http.StatusOK) }

func (s *Server) showJourneys(q *request, draft string, problems []string, notice string, status int) error {
	if s.Journeys == nil {
		return errForbidden
	}
	js, err := s.Journeys.List(q.ctx, q.sess.TenantID, "", 200)
	if err != nil {
		return err
	}
	d := journeysData{CanManage: s.can(q, "POST", "/v1/journeys"), Draft: draft, Problems: problems}
	for _, j := range js {
		rep, err := s.Journeys.Report(q.ctx, q.sess.TenantID, j.ID)
		if err != nil {
			return err
		}
		row := journeyRow{J: j, Report: rep}
		if d.CanManage {
			switch j.State {
			case journey.Draft:
				row.Actions = []string{"activate", "archive"}
			case journey.Active:
				row.Actions = []string{"pause", "archive"}
			case journey.Paused:
				row.Actions = []string{"activate", "archive"}
			}
		}
		d.Journeys = append(d.Journeys, row)
	}
	v := q.view(s, "Journeys")
	v.Data, v.Notice = d, notice
	if len(problems) > 0 {
		v.Error = "The journey was not created: fix the problems listed below the definition."
	}
	return s.pages.render(q.w, status, "journeys", v)
}

func (s *Server) createJourney(q *request) error {
	if err := s.require(q, "POST", "/v1/journeys"); err != nil {
		return err
	}
	if s.Journeys == nil {
		return errForbidden
	}
	def := q.r.PostFormValue("definition")
	j, err := s.Journeys.Create(q.ctx, q.sess.TenantID, []byte(def), nil)
	var ie *marketing.InvalidError
	if errors.As(err, &ie) {
		var ps []string
		for _, f := range ie.Fields {
			ps = append(ps, f.Field+": "+f.Detail)
		}
		return s.showJourneys(q, def, ps, "", http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	s.record(q, "POST /v1/journeys", j.ID, "201")
	return s.showJourneys(q, "", nil, "Journey "+j.Name+" was created as a draft.", http.StatusOK)
}

func (s *Server) journeyAction(action string) func(*request) error {
	state := map[string]string{"activate": journey.Active, "pause": journey.Paused, "archive": journey.Archived}[action]
	route := "/v1/journeys/{id}/" + action
	return func(q *request) error {
		if err := s.require(q, "POST", route); err != nil {
			return err
		}
		if s.Journeys == nil {
			return errForbidden
		}
		id := q.r.PathValue("id")
		j, err := s.Journeys.SetState(q.ctx, q.sess.TenantID, id, state, nil)
		if errors.Is(err, journey.ErrState) {
			return s.showJourneys(q, "", nil, "", http.StatusConflict)
		}
		if err != nil {
			return err
		}
		s.record(q, "POST "+route, id, "200")
		return s.showJourneys(q, "", nil, "Journey "+j.Name+" is now "+j.State+".", http.StatusOK)
	}
}
