package server

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/audit"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
	"github.com/sealpost/sealpost/internal/web"
)

// buildDashboard makes the people service and the pages under /app. Invitations go
// out through the tenant's own pipeline, in the transaction that stores them.
func (s *Server) buildDashboard(cfg *config.Config) error {
	s.People = people.New(s.DB, s.Tenants, people.Config{BaseURL: PortalURL(cfg)}, s.sendSystemMail)
	signer, err := audit.LoadOrCreateSigner(cfg.AuditKeyFile)
	if err != nil {
		return err
	}
	s.Web, err = web.New(web.Deps{DB: s.DB, Tenants: s.Tenants, People: s.People, Portal: s.Portal, Audit: s.Audit,
		Log: s.Log.With("part", "web"), Scope: api.RouteScope, AuditKey: signer.Public(),
		Stats: reportStats{report.New(s.DB, s.Tenants)}, Archive: s.Archive})
	return err
}

// reportStats gives the dashboard's overview the numbers GET /v1/stats gives for the
// same period: the one report service, read from its rollups.
type reportStats struct{ r *report.Service }

func (rs reportStats) Counts(ctx context.Context, tenantID string, since, until time.Time) (map[string]int64, error) {
	res, err := rs.r.Stats(ctx, tenantID, report.Query{From: since, To: until})
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, g := range res.Groups {
		c := g.Totals
		for k, v := range map[string]int64{"accepted": c.Accepted, "delivered": c.Delivered, "deferred": c.Deferred,
			"bounced": c.Bounced, "expired": c.Expired, "failed": c.Failed, "opened": c.Opened, "clicked": c.Clicked,
			"opened_machine": c.OpenedMachine + c.OpenedProxy, "clicked_machine": c.ClickedMachine + c.ClickedProxy,
			"unsubscribed": c.Unsubscribed, "complained": c.Complained, "secured.tls": c.Secured.TLS,
			"secured.pgp": c.Secured.PGP, "secured.smime": c.Secured.SMIME, "secured.portal": c.Secured.Portal} {
			out[k] += v
		}
		if c.InQueue != nil {
			out["in_queue"] += *c.InQueue
		}
	}
	return out, nil
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
