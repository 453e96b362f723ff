package server

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/sealpost/sealpost/internal/config"
)

// CheckPortalURL refuses a portal base that recipients could not open. Notices carry
// the link to every patient, so a base derived from a wildcard listener
// (https://0.0.0.0:8443/p/…), a private address or a plain-http site would send them
// to a page they cannot reach, or reach without TLS. Plain http is accepted only on
// loopback, which is what `sealpost dev` and tests use.
func CheckPortalURL(cfg *config.Config) error {
	base := PortalURL(cfg)
	problem := portalURLProblem(base)
	if problem == "" {
		return nil
	}
	const fix = "set secure.portal_url (or SEALPOST_SECURE_PORTAL_URL) to the https:// address at which recipients reach the portal, e.g. \"https://secure.example.org\""
	if cfg.Secure.PortalURL == "" {
		return fmt.Errorf("secure.portal_url is not set, and the portal address derived from api.listen %q is %s: %s; %s",
			cfg.API.Listen, base, problem, fix)
	}
	return fmt.Errorf("secure.portal_url %q: %s; %s", cfg.Secure.PortalURL, problem, fix)
}

// portalURLProblem says why base is not an address recipients can reach, or "".
func portalURLProblem(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "not an absolute http(s) URL"
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "a base URL may not carry a user, query or fragment"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return "it names no host"
	}
	if isLoopbackHost(host) {
		return "" // development: the browser is on this machine
	}
	if u.Scheme != "https" {
		return "plain http is accepted only on loopback (portal sessions need TLS)"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		switch {
		case a.IsUnspecified():
			return fmt.Sprintf("%s is the wildcard listening address, not one a browser can open", a)
		case a.IsPrivate(), !a.IsGlobalUnicast():
			return fmt.Sprintf("%s is not an address recipients outside this network can reach", a)
		}
		return ""
	}
	if !strings.Contains(host, ".") {
		return fmt.Sprintf("%q is a single-label name that resolves only inside this network", host)
	}
	return ""
}

// isLoopbackHost reports a loopback address or a name that always means this machine
// (RFC 6761 6.3).
func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
