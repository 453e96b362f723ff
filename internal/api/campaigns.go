package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/campaign"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// cp turns the campaign service's validation and state errors into problems with
// field paths (422; 409 for an action the state does not allow; 403 for an approval
// by the campaign's creator).
func cp(err error) error {
	var ie *campaign.InvalidError
	if errors.As(err, &ie) {
		var fp []FieldProblem
		for _, f := range ie.Fields {
			fp = append(fp, FieldProblem{Field: f.Field, Detail: f.Detail})
		}
		return problem(ie.Status, ie.Title, ie.Error(), fp...)
	}
	return mk(err)
}

// campaignActor is who acts on a campaign: the credential (API key or OAuth client) or, from
// the dashboard, the person (user:<id>). Approval compares it with the creator's.
func campaignActor(p *tenant.Principal) string { return p.KeyID }

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	cs, err := s.Campaigns.List(r.Context(), p.TenantID, limitParam(r))
	if err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"campaigns": cs})
	return nil
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in campaign.Input
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	c, err := s.Campaigns.Create(r.Context(), p.TenantID, campaignActor(p), &in, nil)
	if err != nil {
		return cp(err)
	}
	w.Header().Set("Location", "/v1/campaigns/"+c.ID)
	writeJSON(w, 201, c)
	return nil
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	c, err := s.Campaigns.Get(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, c)
	return nil
}

// campaignAction is one of approve, schedule, pause, resume, cancel.
func campaignAction(act func(*campaign.Service, context.Context, string, string, string, *store.AuditEntry) (*campaign.Campaign, error)) func(*Server, http.ResponseWriter, *http.Request, *tenant.Principal) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
		c, err := act(s.Campaigns, r.Context(), p.TenantID, r.PathValue("id"), campaignActor(p), nil)
		if err != nil {
			return cp(err)
		}
		writeJSON(w, 200, c)
		return nil
	}
}

// CampaignTestRequest names the addresses a test send goes to.
type CampaignTestRequest struct {
	To []string `json:"to"`
}

func (s *Server) testCampaign(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	// Another tenant's campaign is 404 whatever the body says.
	if _, err := s.Campaigns.Get(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	var in CampaignTestRequest
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	ids, err := s.Campaigns.TestSend(r.Context(), p.TenantID, r.PathValue("id"), in.To, p)
	if err != nil {
		return cp(err)
	}
	s.OnAccepted()
	writeJSON(w, 202, map[string]any{"messages": ids})
	return nil
}

func (s *Server) addConversion(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	// Another tenant's campaign is 404 whatever the body says.
	if _, err := s.Campaigns.Get(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	var in campaign.ConversionInput
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	counted, err := s.Campaigns.AddConversion(r.Context(), p.TenantID, r.PathValue("id"), &in, nil)
	if err != nil {
		return cp(err)
	}
	status := 201
	if !counted {
		status = 200 // the key was seen before: recorded once
	}
	writeJSON(w, status, map[string]any{"counted": counted})
	return nil
}

func (s *Server) campaignReport(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	rep, err := s.Campaigns.Report(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, rep)
	return nil
}
