package config

import (
	"fmt"

	"github.com/sealpost/sealpost/internal/duration"
)

// Access is how API clients authenticate beyond API keys, and how fast they may go.
type Access struct {
	Issuer          string `toml:"issuer" help:"OAuth issuer: the https base URL clients reach this API at (token endpoint <issuer>/oauth/token); default https://<hostname>"`
	CredentialRate  int    `toml:"credential_rate" help:"sustained requests per second per credential and scope (0: no limit); kept per process"`
	CredentialBurst int    `toml:"credential_burst" help:"requests one credential may make at once per scope"`
	TenantRate      int    `toml:"tenant_rate" help:"sustained requests per second per account and scope, all its credentials together (0: no limit); kept per process"`
	TenantBurst     int    `toml:"tenant_burst" help:"requests one account may make at once per scope"`
	// Anomaly detection: a credential's requests per window against its own average.
	AnomalyWindow string `toml:"anomaly_window" help:"the window a credential's requests are counted in for anomaly detection"`
	AnomalyFactor int    `toml:"anomaly_factor" help:"a window with this many times the credential's average is an anomaly"`
	AnomalyFloor  int    `toml:"anomaly_floor" help:"and it must hold at least this many requests"`
	AnomalyWarmup int    `toml:"anomaly_warmup" help:"windows of history a credential needs before its volume is judged"`
}

// DefaultAccess are the defaults: generous enough for batch senders, low enough that a
// leaked credential cannot mass-mail quickly.
func DefaultAccess() Access {
	return Access{CredentialRate: 50, CredentialBurst: 200, TenantRate: 100, TenantBurst: 400,
		AnomalyWindow: "1m", AnomalyFactor: 10, AnomalyFloor: 100, AnomalyWarmup: 30}
}

func (a Access) validate() []error {
	var errs []error
	if a.CredentialRate < 0 || a.TenantRate < 0 {
		errs = append(errs, fmt.Errorf("access: credential_rate and tenant_rate must not be negative"))
	}
	if (a.CredentialRate > 0 && a.CredentialBurst < 1) || (a.TenantRate > 0 && a.TenantBurst < 1) {
		errs = append(errs, fmt.Errorf("access: a burst must be at least 1 where a rate is set"))
	}
	if _, err := duration.ParsePositive(a.AnomalyWindow); err != nil {
		errs = append(errs, fmt.Errorf("access.anomaly_window %q: want a duration such as 1m", a.AnomalyWindow))
	}
	if a.AnomalyFactor < 2 || a.AnomalyFloor < 1 || a.AnomalyWarmup < 1 {
		errs = append(errs, fmt.Errorf("access: anomaly_factor must be at least 2, anomaly_floor and anomaly_warmup at least 1"))
	}
	return errs
}
