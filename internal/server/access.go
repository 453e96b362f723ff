package server

import (
	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
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
