package api

import (
	"net/http"

	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/tenant"
)

// getSunset shows the tenant's sunset policy (days without human engagement after
// which a contact is suppressed for marketing; 0 is off).
func (s *Server) getSunset(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	out, err := s.Marketing.GetSunset(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) putSunset(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	var in marketing.Sunset
	if err := s.decodeBody(r, &in); err != nil {
		return err
	}
	a, done := s.inlineAudit(r, p, "PUT /v1/marketing/sunset", 200)
	if err := s.Marketing.SetSunset(r.Context(), p.TenantID, &in, a); err != nil {
		return mk(err)
	}
	done()
	writeJSON(w, 200, in)
	return nil
}
