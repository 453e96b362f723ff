package server

import (
	"crypto/x509"
	"log/slog"
	"net"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// InboundService builds the inbound gateway: verdicts from this server's resolver,
// forwarding through the delivery client with this server's trust roots, the
// delivery retry schedule and lease, and the archive journal when it is on.
func InboundService(cfg *config.Config, db *store.DB, tenants *tenant.Service, secure *secureline.Service, resolver *net.Resolver,
	roots *x509.CertPool, owner string, log *slog.Logger) *inbound.Service {
	retry, _ := cfg.RetrySchedule()
	out := &inbound.Clients{Base: delivery.Config{Resolver: resolver, HeloName: cfg.Hostname, RootCAs: roots, Logger: log}}
	return inbound.New(db, tenants, secure, out, inbound.Config{Hostname: cfg.Hostname, Resolver: resolver, Journal: cfg.Archive.Journal,
		Retry: retry, Expire: config.Duration(cfg.Delivery.Expire), Lease: config.Duration(cfg.Delivery.Lease), Owner: owner + "/inbound"}, log)
}
