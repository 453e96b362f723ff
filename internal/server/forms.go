package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/portal/formpages"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// FormsService builds the secure forms service as the server and the command line use
// it. Consent recording is wired here once marketing contacts exist; until then a form
// with a consent block is refused at creation.
func FormsService(cfg *config.Config, db *store.DB, tenants *tenant.Service, p *pipeline.Pipeline, log *slog.Logger, accepted func()) *forms.Service {
	return forms.New(db, tenants, p, forms.Config{BaseURL: PortalURL(cfg), Accepted: accepted}, log)
}

// formsHandler serves the hosted form pages, named as the portal names the tenant.
func formsHandler(svc *forms.Service, p *portal.Service, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	formpages.New(svc, formpages.Config{OrgName: func(ctx context.Context, tenantID string) (string, error) {
		if st, err := p.Settings(ctx, tenantID); err == nil && st.DisplayName != "" {
			return st.DisplayName, nil
		}
		return svc.OrgName(ctx, tenantID)
	}}, log).Routes(mux)
	return mux
}
