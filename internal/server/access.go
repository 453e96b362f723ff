package server

import (
	"context"
	"log/slog"
	"strings"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/anomaly"
	"github.com/sealpost/sealpost/internal/tenant/oauth"
)

// OAuthService builds the OAuth client and token service from the configuration.
func OAuthService(cfg *config.Config, db *store.DB, ring *seal.Keyring, tenants *tenant.Service) *oauth.Service {
	iss := cfg.Access.Issuer
	if iss == "" {
		iss = "https://" + cfg.Hostname
	}
	return oauth.New(db, ring, tenants, oauth.Config{Issuer: iss})
}

// APILimits are the API's request limits from the configuration.
func APILimits(cfg *config.Config) api.Limits {
	a := cfg.Access
	return api.Limits{CredentialRate: float64(a.CredentialRate), CredentialBurst: a.CredentialBurst, TenantRate: float64(a.TenantRate), TenantBurst: a.TenantBurst}
}

// AnomalyDetector builds the detector of unusual credential use. A credential it
// suspends is revoked through the same services the API's revocations use.
func AnomalyDetector(cfg *config.Config, db *store.DB, tenants *tenant.Service, oa *oauth.Service, log *slog.Logger) *anomaly.Detector {
	a := cfg.Access
	window, _ := duration.ParsePositive(a.AnomalyWindow)
	suspend := func(ctx context.Context, tenantID, id string) error {
		if strings.HasPrefix(id, "oac_") {
			return oa.RevokeClient(ctx, tenantID, id)
		}
		return tenants.RevokeKey(ctx, tenantID, id)
	}
	return anomaly.New(db, tenants, suspend, anomaly.Config{Window: window, Factor: float64(a.AnomalyFactor), Floor: a.AnomalyFloor, Warmup: a.AnomalyWarmup}, log)
}
