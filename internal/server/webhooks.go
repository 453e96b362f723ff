package server

import (
	"crypto/x509"
	"log/slog"
	"net"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/webhook"
)

// WebhookService builds the webhook service the server and the CLI share: the
// configured allowlist, loopback only under `sealpost dev` (or webhooks.allow_loopback).
func WebhookService(cfg *config.Config, db *store.DB, tenants *tenant.Service, resolver *net.Resolver, roots *x509.CertPool, opt Options, log *slog.Logger) *webhook.Service {
	allow, _ := cfg.WebhookAllow() // validated with the config
	loop := opt.WebhookLoopback || cfg.Webhooks.AllowLoopback
	return &webhook.Service{DB: db, Tenants: tenants, Loopback: loop, Log: log,
		Client: webhook.NewClient(webhook.ClientOptions{Allow: allow, Loopback: loop, Resolver: resolver, RootCAs: roots, Timeout: opt.WebhookTimeout}),
		Retry:  opt.WebhookRetry, DisableAfter: opt.WebhookDisableAfter}
}
