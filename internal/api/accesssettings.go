package api

import (
	"net/http"

	"github.com/sealpost/sealpost/internal/tenant"
)

// AccessSettings are an account's choices about access anomalies.
type AccessSettings struct {
	SuspendOnAnomaly bool `json:"suspend_on_anomaly"`
}

func (s *Server) getAccessSettings(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	on, err := s.DB.SuspendOnAnomaly(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	writeJSON(w, 200, AccessSettings{SuspendOnAnomaly: on})
	return nil
}

func (s *Server) putAccessSettings(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req AccessSettings
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if err := s.DB.SetSuspendOnAnomaly(r.Context(), p.TenantID, req.SuspendOnAnomaly); err != nil {
		return err
	}
	writeJSON(w, 200, req)
	return nil
}
