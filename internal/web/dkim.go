package web

import (
	"errors"
	"net/http"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// dkimRoutes: a new DKIM key for a domain (a rotation: the new record is published
// beside the old one), through the tenant service the API's route calls.
func (s *Server) dkimRoutes() {
	s.handle("POST /app/domains/{domain}/dkim", people.StageFull, s.rotateDKIM)
}

func (s *Server) rotateDKIM(q *request) error {
	if err := s.require(q, "POST", "/v1/domains/{domain}/dkim"); err != nil {
		return err
	}
	f := q.r.PostForm
	k, err := s.Tenants.GenerateDKIM(q.ctx, q.sess.TenantID, q.r.PathValue("domain"), f.Get("selector"), f.Get("algorithm"))
	var inv *tenant.InvalidError
	switch {
	case errors.Is(err, store.ErrConflict):
		return s.domainsWith(q, http.StatusUnprocessableEntity, "", "selector: this selector is already used for the domain")
	case errors.As(err, &inv):
		return s.domainsWith(q, http.StatusUnprocessableEntity, "", inv.Msg)
	case err != nil:
		return err
	}
	s.record(q, "POST /v1/domains/{domain}/dkim", k.Domain, "201")
	return s.domainsWith(q, http.StatusOK, "A new DKIM key was made for "+k.Domain+": publish its record ("+k.DNSName+") below.", "")
}
