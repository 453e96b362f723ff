package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/journey"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Journeys (drip sequences): definitions, their state, runs, reports and the events
// that trigger them. Every rule is the journey service's; these handlers translate.

func (s *Server) journeys() (*journey.Service, error) {
	if s.Journeys == nil {
		return nil, problem(503, "Journeys unavailable", "journeys are not enabled on this server")
	}
	return s.Journeys, nil
}

// jy maps the journey service's errors onto problems.
func jy(err error) error {
	if errors.Is(err, journey.ErrState) {
		return problem(409, "Not allowed in this state", "a journey is activated from draft or paused, paused when active, archived from any state but archived")
	}
	return mk(err)
}

func (s *Server) createJourney(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	j, err := svc.Create(r.Context(), p.TenantID, body, nil)
	if err != nil {
		return jy(err)
	}
	w.Header().Set("Location", "/v1/journeys/"+j.ID)
	writeJSON(w, http.StatusCreated, j)
	return nil
}

func (s *Server) listJourneys(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	js, pg, err := readPage(r, p.TenantID, svc.List, func(j *journey.Journey) string { return j.ID })
	if err != nil {
		return err
	}
	writeJSON(w, 200, struct {
		Journeys []*journey.Journey `json:"journeys"`
		cursorPage
	}{js, pg})
	return nil
}

func (s *Server) getJourney(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	j, err := svc.Get(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, j)
	return nil
}

func (s *Server) setJourneyState(w http.ResponseWriter, r *http.Request, p *tenant.Principal, state string) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	j, err := svc.SetState(r.Context(), p.TenantID, r.PathValue("id"), state, nil)
	if err != nil {
		return jy(err)
	}
	writeJSON(w, 200, j)
	return nil
}

func (s *Server) activateJourney(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.setJourneyState(w, r, p, journey.Active)
}

func (s *Server) pauseJourney(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.setJourneyState(w, r, p, journey.Paused)
}

func (s *Server) archiveJourney(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	return s.setJourneyState(w, r, p, journey.Archived)
}

func (s *Server) listJourneyRuns(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	runs := func(ctx context.Context, tenantID, after string, limit int) ([]*journey.Run, error) {
		return svc.Runs(ctx, tenantID, r.PathValue("id"), after, limit)
	}
	rs, pg, err := readPage(r, p.TenantID, runs, func(run *journey.Run) string { return run.ID })
	if err != nil {
		return err
	}
	writeJSON(w, 200, struct {
		Runs []*journey.Run `json:"runs"`
		cursorPage
	}{rs, pg})
	return nil
}

func (s *Server) getJourneyRun(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	run, err := svc.GetRun(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, run)
	return nil
}

func (s *Server) getJourneyReport(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	rep, err := svc.Report(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, rep)
	return nil
}

// journeyEvent starts the runs an event triggers: 201 when it started one, 200 when
// every run was already there (the same idempotency key again, or the contact
// already in the journey) — a repeated delivery of one event starts nothing new.
func (s *Server) journeyEvent(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	svc, err := s.journeys()
	if err != nil {
		return err
	}
	var in journey.EventInput
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	res, err := svc.Trigger(r.Context(), p.TenantID, &in)
	if err != nil {
		return jy(err)
	}
	status := http.StatusOK
	if res.Started {
		status = http.StatusCreated
	}
	writeJSON(w, status, res)
	return nil
}
