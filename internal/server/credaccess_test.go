package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// TestCredentialNetworksAndLimits: a credential with networks is accepted from them and
// refused from elsewhere, by bearer key and by OAuth token alike, without saying more
// than a wrong credential would; a credential's own limit replaces the default bucket.
func TestCredentialNetworksAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{configure: func(c *config.Config) {
			c.Access.CredentialRate, c.Access.CredentialBurst = 100, 100
		}})
		ctx := context.Background()
		// 127.0.1.1 is loopback too, but outside 127.0.0.0/24.
		other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, 1)}}).DialContext}}
		get := func(c *http.Client, auth string) (*http.Response, string) {
			req, _ := http.NewRequest("GET", e.base+"/v1/events?limit=1", nil)
			req.Header.Set("Authorization", auth)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, string(b)
		}

		// Every bad field at once, by its path.
		s, pr := e.do("POST", "/v1/keys", e.key, map[string]any{"scopes": []string{"read"},
			"allowed_networks": []string{"10.0.0.0/8", "not-a-network"}, "rate_limit": map[string]any{"per_second": -1, "burst": 0}})
		if s != 400 || !strings.Contains(fmtFields(pr), "allowed_networks[1]") || !strings.Contains(fmtFields(pr), "rate_limit.per_second") || !strings.Contains(fmtFields(pr), "rate_limit.burst") {
			t.Fatalf("invalid rules: %d %v", s, pr)
		}

		// A bearer key bound to this machine's network.
		s, k := e.do("POST", "/v1/keys", e.key, map[string]any{"scopes": []string{"read"}, "allowed_networks": []string{"127.0.0.7/24"}})
		if s != 201 || k["allowed_networks"].([]any)[0] != "127.0.0.0/24" {
			t.Fatalf("create key: %d %v", s, k)
		}
		key := k["secret"].(string)
		if r, _ := get(http.DefaultClient, "Bearer "+key); r.StatusCode != 200 {
			t.Fatalf("from an allowed network: %d", r.StatusCode)
		}
		r, body := get(other, "Bearer "+key)
		if r.StatusCode != 403 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") ||
			strings.Contains(body, k["id"].(string)) || strings.Contains(body, "127.0.0.0") {
			t.Fatalf("from another network: %d %s", r.StatusCode, body)
		}
		// Basic follows the same list.
		r, _ = get(other, "Basic "+basic(k["id"].(string), key))
		if r.StatusCode != 403 {
			t.Fatalf("Basic from another network: %d", r.StatusCode)
		}
		// A wrong credential from there still gets the same 401 as anywhere.
		if r, _ := get(other, "Bearer sp_live_wrong"); r.StatusCode != 401 {
			t.Fatalf("wrong key from another network: %d", r.StatusCode)
		}
		if s, l := e.do("GET", "/v1/keys", e.key, nil); s != 200 || !strings.Contains(fmtAny(l), "127.0.0.0/24") {
			t.Fatalf("list keys: %d %v", s, l)
		}

		// An OAuth client bound to other networks gets no token here.
		id, secret := createClient(t, e, map[string]any{"scopes": []string{"read"}, "allowed_networks": []string{"10.0.0.0/8", "2001:db8::/32"}})
		if st, tok := oauthPost(t, e.base, "/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}}); st != 403 || tok["error"] != "unauthorized_client" {
			t.Fatalf("token from outside the client's networks: %d %v", st, tok)
		}
		// A client bound to this machine's network works from it, and not from elsewhere.
		id2, secret2 := createClient(t, e, map[string]any{"scopes": []string{"read"}, "allowed_networks": []string{"127.0.0.1"}})
		_, tok2 := oauthPost(t, e.base, "/oauth/token", id2, secret2, url.Values{"grant_type": {"client_credentials"}})
		if r, _ := get(http.DefaultClient, "Bearer "+tok2["access_token"].(string)); r.StatusCode != 200 {
			t.Fatalf("token from its client's network: %d", r.StatusCode)
		}
		if r, _ := get(other, "Bearer "+tok2["access_token"].(string)); r.StatusCode != 403 {
			t.Fatalf("token from another network: %d", r.StatusCode)
		}

		// Refusals are audited and counted with reason network.
		entries, _ := e.srv.DB.AuditEntries(ctx, store.AuditFilter{Action: "GET /v1/events", Principal: "anonymous", Limit: 100})
		refused := 0
		for _, en := range entries {
			if en.Result == "403" && en.Client == "127.0.1.1" {
				refused++
			}
		}
		if refused != 3 {
			t.Fatalf("%d audited refusals from the other network, want 3 (bearer, Basic, token)", refused)
		}
		m := scrape(t, e)
		if v := metricValue(t, m, `sealpost_api_auth_failures_total{method="bearer",reason="network"}`); v != 1 {
			t.Fatalf("bearer network failures %v", v)
		}
		if v := metricValue(t, m, `sealpost_api_auth_failures_total{method="oauth_client",reason="network"}`); v != 1 {
			t.Fatalf("token endpoint network failures %v", v)
		}
		if v := metricValue(t, m, `sealpost_api_auth_failures_total{method="oauth",reason="network"}`); v != 1 {
			t.Fatalf("oauth network failures %v", v)
		}

		// A key with its own limit: 429 at its own burst of 2, not the default 100.
		s, k = e.do("POST", "/v1/keys", e.key, map[string]any{"scopes": []string{"read"}, "rate_limit": map[string]any{"per_second": 0.5, "burst": 2}})
		if s != 201 {
			t.Fatalf("create limited key: %d %v", s, k)
		}
		limited := "Bearer " + k["secret"].(string)
		for i := range 2 {
			r, _ := get(http.DefaultClient, limited)
			if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("RateLimit-Policy"), `"credential";q=2;w=4`) {
				t.Fatalf("limited key, request %d: %d %q", i, r.StatusCode, r.Header.Get("RateLimit-Policy"))
			}
		}
		if r, _ := get(http.DefaultClient, limited); r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("past its own burst: %d", r.StatusCode)
		}
		// The default bucket still serves other keys.
		if r, _ := get(http.DefaultClient, "Bearer "+key); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("RateLimit-Policy"), `"credential";q=100;`) {
			t.Fatalf("default key: %d %q", r.StatusCode, r.Header.Get("RateLimit-Policy"))
		}
		// An OAuth client's limit holds for its tokens.
		id3, secret3 := createClient(t, e, map[string]any{"scopes": []string{"read"}, "rate_limit": map[string]any{"per_second": 0.5, "burst": 1}})
		_, tok3 := oauthPost(t, e.base, "/oauth/token", id3, secret3, url.Values{"grant_type": {"client_credentials"}})
		if r, _ := get(http.DefaultClient, "Bearer "+tok3["access_token"].(string)); r.StatusCode != 200 {
			t.Fatalf("client token: %d", r.StatusCode)
		}
		if r, _ := get(http.DefaultClient, "Bearer "+tok3["access_token"].(string)); r.StatusCode != 429 {
			t.Fatalf("client token past its client's burst: %d", r.StatusCode)
		}
	})
}

func fmtFields(p map[string]any) string {
	var b strings.Builder
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			b.WriteString(m["field"].(string) + " ")
		}
	}
	return b.String()
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSignedRequestNetworks: a signed request follows its client's networks — refused
// with 403 from outside them, even to open a session.
func TestSignedRequestNetworks(t *testing.T) {
	chk := startChecker(t)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		id, _ := createClient(t, e, map[string]any{"scopes": []string{"read"}, "allowed_networks": []string{"10.0.0.0/8"}})
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		s, k := e.do("POST", "/v1/oauth-clients/"+id+"/signature-keys", e.key, map[string]any{"alg": "ed25519", "public_key": base64.StdEncoding.EncodeToString(pub)})
		if s != 201 {
			t.Fatalf("register key: %d %v", s, k)
		}
		sg := &signer{t: t, e: e, chk: chk, alg: "ed25519", key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), keyid: k["keyid"].(string)}
		if s, p := sg.sign("POST", "/v1/sessions", "", nil, time.Now()).send(t); s != 403 || strings.Contains(fmtAny(p), id) {
			t.Fatalf("signed request from outside the client's networks: %d %v", s, p)
		}
		if v := metricValue(t, scrape(t, e), `sealpost_api_auth_failures_total{method="signature",reason="network"}`); v != 1 {
			t.Fatalf("signature network failures %v", v)
		}
	})
}
