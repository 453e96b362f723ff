package server

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/pgpmime"
	"github.com/sealpost/sealpost/internal/portal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// TLSParts are the recipient-side TLS policy sources shared by delivery (which
// enforces them) and SecureLine (which probes with them).
type TLSParts struct {
	STS    *tlssec.STS    // nil when secure.mta_sts is off
	DNSSEC *tlssec.DNSSEC // nil without secure.dnssec_resolver: no DANE
	Prober *tlssec.Prober
}

// HTTPClient is the client for MTA-STS and WKD fetches: verified TLS against the
// system roots (or roots when set), no redirects (RFC 8461 3.3), short timeouts.
func HTTPClient(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TLSSecurity builds the MTA-STS fetcher, the DNSSEC resolver and the prober from the
// configuration.
func TLSSecurity(cfg *config.Config, resolver *net.Resolver, roots *x509.CertPool, cache tlssec.Cache, client *http.Client, log *slog.Logger) TLSParts {
	if client == nil {
		client = HTTPClient(roots)
	}
	var p TLSParts
	if cfg.Secure.MTASTS {
		// A TXT answer is reused for a minute: a burst to one domain asks DNS once.
		p.STS = &tlssec.STS{Resolver: resolver, Client: client, Cache: cache, Logger: log.With("part", "mta-sts"), RecordTTL: time.Minute}
	}
	if cfg.Secure.DNSSECResolver != "" {
		p.DNSSEC = &tlssec.DNSSEC{Server: cfg.Secure.DNSSECResolver}
	}
	p.Prober = &tlssec.Prober{Resolver: resolver, DNSSEC: p.DNSSEC, STS: p.STS, RootCAs: roots, Port: cfg.Delivery.Port,
		HeloName: cfg.Hostname, Timeout: 20 * time.Second, Cache: cache, TTL: config.Duration(cfg.Secure.ProbeTTL)}
	return p
}

// SecureConfig is SecureLine's configuration.
func SecureConfig(cfg *config.Config, t TLSParts, client *http.Client) secureline.Config {
	c := secureline.Config{Prober: t.Prober, PortalURL: cfg.Secure.PortalURL, PortalExpiry: config.Duration(cfg.Secure.PortalExpiry)}
	c.PortalURL = PortalURL(cfg)
	if cfg.Secure.WKD {
		if client == nil {
			client = HTTPClient(nil)
		}
		c.WKD = &pgpmime.WKD{Client: client}
	}
	return c
}

// PortalURL is the base of portal links: secure.portal_url, else the API listener.
func PortalURL(cfg *config.Config) string {
	if cfg.Secure.PortalURL != "" {
		return strings.TrimRight(cfg.Secure.PortalURL, "/")
	}
	if cfg.API.TLSCert != "" {
		return "https://" + cfg.API.Listen
	}
	return "http://" + cfg.API.Listen
}

// TrackingURL is the base URL of tracked links: tracking.base_url, else the portal's.
func TrackingURL(cfg *config.Config) string {
	if cfg.Tracking.BaseURL != "" {
		return strings.TrimRight(cfg.Tracking.BaseURL, "/")
	}
	return PortalURL(cfg)
}

// PortalConfig is the portal's configuration.
func PortalConfig(cfg *config.Config) portal.Config {
	p := cfg.Portal
	return portal.Config{CodeTTL: config.Duration(p.CodeTTL), MaxFailures: p.MaxFailures, ClientMaxFailures: p.ClientMaxFailures,
		Lockout: config.Duration(p.Lockout), SessionIdle: config.Duration(p.SessionIdle), SessionMax: config.Duration(p.SessionMax),
		DefaultExpiry: config.Duration(cfg.Secure.PortalExpiry), MaxExpiry: config.Duration(p.MaxExpiry), SweepEvery: config.Duration(p.SweepEvery),
		MaxUploadBytes: p.MaxUploadBytes, SecureCookies: strings.HasPrefix(PortalURL(cfg), "https://")}
}
