package server

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/forms"
	"github.com/sealpost/sealpost/internal/marketing"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/portal/formpages"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// FormsService builds the secure forms service as the server and the command line use
// it: a form's consent block records its authorisation or opt-in with marketing's
// consent records, which marketing sends obey.
func FormsService(cfg *config.Config, db *store.DB, tenants *tenant.Service, p *pipeline.Pipeline, m *marketing.Service, log *slog.Logger, accepted func()) *forms.Service {
	return forms.New(db, tenants, p, forms.Config{BaseURL: PortalURL(cfg), Accepted: accepted, Consent: formConsent{m}}, log)
}

// formConsent records a form's consent as a marketing consent record: the signed
// submission's SHA-256 is its evidence hash, the form and submission how it was obtained.
type formConsent struct{ m *marketing.Service }

func (f formConsent) RecordConsent(ctx context.Context, tenantID string, in forms.ConsentInput) (string, error) {
	// Only contact fields can personalise a message: the scope keeps the form's allowed
	// fields that the tenant's contact schema has (a narrower scope, never a wider one).
	schema, err := f.m.Schema(ctx, tenantID)
	if err != nil {
		return "", err
	}
	var fields []string
	for _, n := range in.FieldsAllowed {
		if slices.ContainsFunc(schema, func(fd *marketing.Field) bool { return fd.Name == n }) {
			fields = append(fields, n)
		}
	}
	kind := in.Kind
	if kind == forms.ConsentHIPAAMarketing {
		kind = "hipaa_authorization"
	}
	return f.m.RecordConsent(ctx, tenantID, &marketing.ConsentInput{Email: in.Address, Kind: kind, Purposes: in.Purposes,
		Fields: fields, ObtainedVia: "signed_form", ObtainedAt: in.At, EvidenceHash: hex.EncodeToString(in.EvidenceHash[:]),
		ExpiresAt: in.ExpiresAt, ExpiryEvent: in.ExpiryEvent})
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
