package server

import (
	"context"
	"strings"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/mailtemplate"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/quarantine"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
	"github.com/sealpost/sealpost/internal/web"
)

// buildDashboard makes the people service and the pages under /app. Invitations go
// out through the tenant's own pipeline, in the transaction that stores them.
func (s *Server) buildDashboard(cfg *config.Config) error {
	base := PortalURL(cfg)
	if cfg.Dashboard.URL != "" {
		base = strings.TrimRight(cfg.Dashboard.URL, "/")
	}
	s.People = people.New(s.DB, s.Tenants, people.Config{BaseURL: base, RPID: cfg.Dashboard.PasskeyRPID}, s.sendSystemMail)
	signer, err := audit.LoadOrCreateSigner(cfg.AuditKeyFile)
	if err != nil {
		return err
	}
	s.Web, err = web.New(web.Deps{DB: s.DB, Tenants: s.Tenants, People: s.People, Portal: s.Portal, Audit: s.Audit,
		Log: s.Log.With("part", "web"), Scope: api.RouteScope, AuditKey: signer.Public(),
		Reports:    report.New(s.DB, s.Tenants),
		Quarantine: quarantine.New(s.DB, s.Worker.Notify),
		Webhooks:   s.Webhooks,
		Secure:     s.Secure,
		Pipeline:   s.Pipeline,
		Templates:  mailtemplate.New(s.DB, s.Tenants),
		Journeys:   s.Journeys,
		Campaigns:  s.Campaigns, // Campaigns.
		Archive:    s.Archive,
	})
	return err
}

// sendSystemMail submits a message Sealpost itself writes (it carries no PHI: an
// invitation link) as the tenant, with also in its transaction.
func (s *Server) sendSystemMail(ctx context.Context, tenantID, from, to, subject, text string, also func(context.Context, *store.Tx) error) error {
	f, err := message.ParseAddress(from)
	if err != nil {
		return err
	}
	t, err := message.ParseAddress(to)
	if err != nil {
		return err
	}
	sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: tenantID, KeyID: "system"}, System: true, Tags: []string{"invitation"},
		Draft: &message.Draft{From: f, To: []message.Address{t}, Subject: subject, Text: text},
		Also:  func(ctx context.Context, tx *store.Tx, _ string) error { return also(ctx, tx) }}
	if _, err := s.Pipeline.Submit(ctx, sub); err != nil {
		return err
	}
	s.Worker.Notify()
	return nil
}
