package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
)

// TestPortalURLMustBeReachable: a portal base recipients cannot open stops the server
// before it starts, with a message naming the setting to fix; loopback development
// and real https addresses start.
func TestPortalURLMustBeReachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		listen, tlsCert, portalURL string
		want                       string // "" means accepted; else a part of the error
	}{
		{"0.0.0.0:8443", "/etc/sealpost/api.crt", "", `derived from api.listen "0.0.0.0:8443" is https://0.0.0.0:8443: 0.0.0.0 is the wildcard`},
		{"[::]:8443", "/etc/sealpost/api.crt", "", "wildcard"},
		{":8443", "/etc/sealpost/api.crt", "", "names no host"},
		{"0.0.0.0:8080", "", "", "plain http is accepted only on loopback"},
		{"10.1.2.3:8443", "/etc/sealpost/api.crt", "", "10.1.2.3 is not an address recipients outside this network can reach"},
		{"mailhost:8443", "/etc/sealpost/api.crt", "", "single-label"},
		{"0.0.0.0:8443", "", "https://10.0.0.5/", "secure.portal_url \"https://10.0.0.5/\""},
		{"0.0.0.0:8443", "", "https://[fe80::1]/", "not an address recipients"},
		{"0.0.0.0:8443", "", "https://user@secure.clinic.example/", "user, query or fragment"},
		{"127.0.0.1:8080", "", "", ""},
		{"[::1]:8080", "", "", ""},
		{"localhost:8080", "", "", ""},
		{"secure.clinic.example:8443", "/etc/sealpost/api.crt", "", ""},
		{"203.0.113.5:443", "/etc/sealpost/api.crt", "", ""},
		{"0.0.0.0:8443", "", "https://secure.clinic.example", ""},
		{"0.0.0.0:8080", "", "https://secure.clinic.example/portal/", ""},
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080", ""},
	}
	for _, tc := range tests {
		cfg := config.Default()
		cfg.API.Listen, cfg.API.TLSCert, cfg.Secure.PortalURL = tc.listen, tc.tlsCert, tc.portalURL
		err := server.CheckPortalURL(&cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("listen %q portal_url %q: refused: %v", tc.listen, tc.portalURL, err)
		case tc.want != "" && err == nil:
			t.Errorf("listen %q portal_url %q: accepted, base %s", tc.listen, tc.portalURL, server.PortalURL(&cfg))
		case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "set secure.portal_url")):
			t.Errorf("listen %q portal_url %q: error %q lacks %q or the fix", tc.listen, tc.portalURL, err, tc.want)
		}
	}
}

// TestServerRefusesUnreachablePortal: New itself refuses, so `serve` never starts
// sending notices that link patients to https://0.0.0.0:8443/p/….
func TestServerRefusesUnreachablePortal(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = "sqlite:" + cfg.DataDir + "/sealpost.db"
	cfg.API.Listen = "0.0.0.0:8443"
	cfg.API.TLSCert, cfg.API.TLSKey = "/etc/sealpost/api.crt", "/etc/sealpost/api.key"
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	s, err := server.New(context.Background(), &cfg, server.Options{Keyring: ring})
	if err == nil {
		s.DB.Close()
		t.Fatal("server built with portal links to https://0.0.0.0:8443")
	}
	if !strings.Contains(err.Error(), "secure.portal_url is not set") || !strings.Contains(err.Error(), "SEALPOST_SECURE_PORTAL_URL") {
		t.Fatalf("error does not say what to set: %v", err)
	}
}
