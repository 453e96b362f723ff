package config

import (
	"net/url"
	"strings"
)

// validateDashboard checks the dashboard's URL and passkey RP ID: a browser refuses
// an RP ID that is not the page's host or a parent domain of it, and passkeys need
// a secure context (https, or http on localhost while testing).
func (c *Config) validateDashboard(bad func(string, ...any)) {
	d := c.Dashboard
	if d.URL == "" {
		if d.PasskeyRPID != "" {
			bad("dashboard.passkey_rp_id needs dashboard.url")
		}
		return
	}
	u, err := url.Parse(d.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		bad("dashboard.url %q: want https://host[:port] with no path", d.URL)
		return
	}
	host := u.Hostname()
	if u.Scheme == "http" && host != "localhost" && host != "127.0.0.1" && host != "::1" {
		bad("dashboard.url %q: use https (browsers allow passkeys over http only on localhost)", d.URL)
	}
	if rp := strings.ToLower(d.PasskeyRPID); rp != "" && rp != host && !strings.HasSuffix(host, "."+rp) {
		bad("dashboard.passkey_rp_id %q: must be %s or a parent domain of it", d.PasskeyRPID, host)
	}
}
