package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/marketing"
)

// Campaigns: listed, created, approved, scheduled, paused, resumed and cancelled, and
// their reports, through the same campaign service the API's routes call. A person
// acts as user:<id>, so the person who wrote a campaign cannot approve it.

type campaignsData struct {
	Campaigns []*campaign.Campaign
	Lists     []*marketing.List
	CanManage bool
	Form      map[string]string
	Problems  []string
	Report    *campaign.Report
	Campaign  *campaign.Campaign
}

func (s *Server) campaignRoutes() {
	s.handle("POST /app/campaigns", "full", s.createCampaign)
	s.handle("GET /app/campaigns/{id}", "full", s.campaignPage)
	for _, a := range []struct {
		name string
		act  func(*campaign.Service, *request, string) (*campaign.Campaign, error)
	}{
		{"approve", func(c *campaign.Service, q *request, id string) (*campaign.Campaign, error) {
			return c.Approve(q.ctx, q.sess.TenantID, id, personActor(q), nil)
		}},
		{"schedule", func(c *campaign.Service, q *request, id string) (*campaign.Campaign, error) {
			return c.Schedule(q.ctx, q.sess.TenantID, id, personActor(q), nil)
		}},
		{"pause", func(c *campaign.Service, q *request, id string) (*campaign.Campaign, error) {
			return c.Pause(q.ctx, q.sess.TenantID, id, personActor(q), nil)
		}},
		{"resume", func(c *campaign.Service, q *request, id string) (*campaign.Campaign, error) {
			return c.Resume(q.ctx, q.sess.TenantID, id, personActor(q), nil)
		}},
		{"cancel", func(c *campaign.Service, q *request, id string) (*campaign.Campaign, error) {
			return c.Cancel(q.ctx, q.sess.TenantID, id, personActor(q), nil)
		}},
	} {
		s.handle("POST /app/campaigns/{id}/"+a.name, "full", func(q *request) error {
			if err := s.require(q, "POST", "/v1/campaigns/{id}/"+a.name); err != nil {
				return err
			}
			id := q.r.PathValue("id")
			if _, err := a.act(s.Campaigns, q, id); err != nil {
				var ie *campaign.InvalidError
				if errors.As(err, &ie) {
					return s.campaignsPage(q, http.StatusConflict, nil, campaignProblems(ie))
				}
				return err
			}
			s.record(q, "POST /v1/campaigns/{id}/"+a.name, id, "200")
			return q.redirect("/app/campaigns")
		})
	}
}

// personActor is the dashboard's actor: the person, as the API's principal names them.
func personActor(q *request) string { return "user:" + q.sess.User.ID }

func campaignProblems(ie *campaign.InvalidError) []string {
	var out []string
	for _, f := range ie.Fields {
		out = append(out, f.Field+": "+f.Detail)
	}
	return out
}

func (s *Server) campaigns(q *request) error { return s.campaignsPage(q, http.StatusOK, nil, nil) }

func (s *Server) campaignsPage(q *request, status int, form map[string]string, probs []string) error {
	cs, err := s.Campaigns.List(q.ctx, q.sess.TenantID, 100)
	if err != nil {
		return err
	}
	ls, err := s.Campaigns.Marketing.Lists(q.ctx, q.sess.TenantID)
	if err != nil {
		return err
	}
	v := q.view(s, "Campaigns")
	if len(probs) > 0 {
		v.Error = "The campaign was not changed: " + strings.Join(probs, "; ")
	}
	v.Data = campaignsData{Campaigns: cs, Lists: ls, CanManage: s.can(q, "POST", "/v1/campaigns"), Form: form, Problems: probs}
	return s.pages.render(q.w, status, "campaigns", v)
}

func (s *Server) createCampaign(q *request) error {
	if err := s.require(q, "POST", "/v1/campaigns"); err != nil {
		return err
	}
	f := q.r.PostForm
	throttle, _ := strconv.Atoi(strings.TrimSpace(f.Get("throttle")))
	in := &campaign.Input{Name: f.Get("name"), Spec: campaign.Spec{From: f.Get("from"), Content: campaign.Content{Subject: f.Get("subject"), Text: f.Get("text")},
		Lists: f["lists"], Throttle: throttle, Schedule: campaign.Schedule{SendAt: f.Get("send_at"), TimeZone: f.Get("time_zone")}}}
	c, err := s.Campaigns.Create(q.ctx, q.sess.TenantID, personActor(q), in, nil)
	var ie *campaign.InvalidError
	if errors.As(err, &ie) {
		form := map[string]string{"name": in.Name, "from": in.From, "subject": in.Subject, "text": in.Text, "throttle": f.Get("throttle"),
			"send_at": in.Schedule.SendAt, "time_zone": in.Schedule.TimeZone}
		return s.campaignsPage(q, http.StatusUnprocessableEntity, form, campaignProblems(ie))
	}
	if err != nil {
		return err
	}
	s.record(q, "POST /v1/campaigns", c.ID, "201")
	return q.redirect("/app/campaigns")
}

func (s *Server) campaignPage(q *request) error {
	if err := s.require(q, "GET", "/v1/campaigns/{id}/report"); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	c, err := s.Campaigns.Get(q.ctx, q.sess.TenantID, id)
	if err != nil {
		return err
	}
	r, err := s.Campaigns.Report(q.ctx, q.sess.TenantID, id)
	if err != nil {
		return err
	}
	v := q.view(s, "Campaign: "+c.Name)
	v.Data = campaignsData{Campaign: c, Report: r}
	return s.pages.render(q.w, http.StatusOK, "campaign", v)
}
