package config

import "fmt"

// Access is how API clients authenticate beyond API keys, and how fast they may go.
type Access struct {
	Issuer          string `toml:"issuer" help:"OAuth issuer: the https base URL clients reach this API at (token endpoint <issuer>/oauth/token); default https://<hostname>"`
	CredentialRate  int    `toml:"credential_rate" help:"sustained requests per second per credential and scope (0: no limit); kept per process"`
	CredentialBurst int    `toml:"credential_burst" help:"requests one credential may make at once per scope"`
	TenantRate      int    `toml:"tenant_rate" help:"sustained requests per second per account and scope, all its credentials together (0: no limit); kept per process"`
	TenantBurst     int    `toml:"tenant_burst" help:"requests one account may make at once per scope"`
}

// DefaultAccess are the defaults: generous enough for batch senders, low enough that a
// leaked credential cannot mass-mail quickly.
func DefaultAccess() Access {
	return Access{CredentialRate: 50, CredentialBurst: 200, TenantRate: 100, TenantBurst: 400}
}

func (a Access) validate() []error {
	var errs []error
	if a.CredentialRate < 0 || a.TenantRate < 0 {
		errs = append(errs, fmt.Errorf("access: credential_rate and tenant_rate must not be negative"))
	}
	if (a.CredentialRate > 0 && a.CredentialBurst < 1) || (a.TenantRate > 0 && a.TenantBurst < 1) {
		errs = append(errs, fmt.Errorf("access: a burst must be at least 1 where a rate is set"))
	}
	return errs
}
