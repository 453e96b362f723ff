package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/store/storetest"
	"github.com/sealpost/sealpost/internal/tenant"
)

// sendWith posts a message through an http.Client that adds its own credentials.
func sendWith(t *testing.T, c *http.Client, base string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(simple("p@patient.example"))
	resp, err := c.Post(base+"/v1/messages", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// oauthPost calls an OAuth endpoint as a client with client_secret_basic.
func oauthPost(t *testing.T, base, path, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func createClient(t *testing.T, e *env, body map[string]any) (id, secret string) {
	t.Helper()
	s, oc := e.do("POST", "/v1/oauth-clients", e.key, body)
	if s != 201 {
		t.Fatalf("create client: %d %v", s, oc)
	}
	secret, _ = oc["client_secret"].(string)
	return oc["id"].(string), secret
}

// TestOAuthClientCredentials: golang.org/x/oauth2's client credentials client, which
// knows nothing of Sealpost, gets tokens by client_secret_basic and _post and sends a
// message; a token revoked by RFC 7009 stops working at the next request and
// introspects as inactive; an expired token fails; secrets and tokens are stored hashed.
func TestOAuthClientCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		ctx := context.Background()
		id, secret := createClient(t, e, map[string]any{"name": "ehr", "scopes": []string{"send", "read"}})

		var tokens []string
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.base + "/oauth/token", AuthStyle: style, Scopes: []string{"send"}}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("auth style %d: %v", style, err)
			}
			if tok.Expiry.IsZero() || time.Until(tok.Expiry) > 16*time.Minute {
				t.Errorf("token expiry %v: want about 15 minutes", tok.Expiry)
			}
			s, res := sendWith(t, oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok)), e.base)
			if s != 202 {
				t.Fatalf("send with token: %d %v", s, res)
			}
			tokens = append(tokens, tok.AccessToken)
			if style == oauth2.AuthStyleInHeader {
				m := e.waitFinal(res["id"].(string))
				if st := m["recipients"].([]any)[0].(map[string]any)["status"]; st != "delivered" {
					t.Fatalf("message sent with a token: %v", st)
				}
			}
		}
		// The token holds only the scope asked for.
		if s, _ := e.do("GET", "/v1/events", tokens[0], nil); s != 403 {
			t.Errorf("send-scoped token reading events: %d", s)
		}

		// Introspection: active to its own client, inactive to any other.
		s, in := oauthPost(t, e.base, "/oauth/introspect", id, secret, url.Values{"token": {tokens[0]}})
		if s != 200 || in["active"] != true || in["scope"] != "send" || in["client_id"] != id {
			t.Fatalf("introspect: %d %v", s, in)
		}
		otherID, otherSecret := createClient(t, e, map[string]any{"name": "other", "scopes": []string{"read"}})
		if _, in := oauthPost(t, e.base, "/oauth/introspect", otherID, otherSecret, url.Values{"token": {tokens[0]}}); in["active"] != false || len(in) != 1 {
			t.Errorf("another client introspecting: %v", in)
		}
		// Revocation by another client does nothing; by the owner, it holds at once.
		oauthPost(t, e.base, "/oauth/revoke", otherID, otherSecret, url.Values{"token": {tokens[0]}})
		if s, _ := e.send(tokens[0], simple("p@patient.example")); s != 202 {
			t.Fatalf("token revoked by a stranger: %d", s)
		}
		if s, _ := oauthPost(t, e.base, "/oauth/revoke", id, secret, url.Values{"token": {tokens[0]}}); s != 200 {
			t.Fatalf("revoke: %d", s)
		}
		s, revoked := e.send(tokens[0], simple("p@patient.example"))
		_, unknown := e.send("spat_"+strings.Repeat("A", 43), simple("p@patient.example"))
		if s != 401 || revoked["detail"] != unknown["detail"] {
			t.Fatalf("revoked token: %d %v (unknown token: %v)", s, revoked, unknown)
		}
		if _, in := oauthPost(t, e.base, "/oauth/introspect", id, secret, url.Values{"token": {tokens[0]}}); in["active"] != false {
			t.Errorf("revoked token introspects as %v", in)
		}
		// Revoking an unknown token answers 200 too (RFC 7009 2.2).
		if s, _ := oauthPost(t, e.base, "/oauth/revoke", id, secret, url.Values{"token": {"nonsense"}}); s != 200 {
			t.Errorf("revoke unknown: %d", s)
		}

		// Expiry: past its 15 minutes the second token fails, though never revoked.
		e.srv.OAuth.Skew(16 * time.Minute)
		s, _ = e.send(tokens[1], simple("p@patient.example"))
		e.srv.OAuth.Skew(0)
		if s != 401 {
			t.Fatalf("expired token: %d", s)
		}

		// A wrong secret and an unknown client are refused alike.
		bad := func(id, secret string) map[string]any {
			s, out := oauthPost(t, e.base, "/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
			if s != 401 || out["error"] != "invalid_client" {
				t.Fatalf("bad client %s: %d %v", id, s, out)
			}
			delete(out, "request_id")
			return out
		}
		if a, b := bad(id, secret+"x"), bad("oac_unknown", secret); a["detail"] != b["detail"] || a["error_description"] != b["error_description"] {
			t.Errorf("wrong secret %v differs from unknown client %v", a, b)
		}
		// Revoking the client ends its tokens at once.
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.base + "/oauth/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := e.do("DELETE", "/v1/oauth-clients/"+id, e.key, nil); s != 204 {
			t.Fatalf("revoke client: %d", s)
		}
		if s, _ := e.send(tok.AccessToken, simple("p@patient.example")); s != 401 {
			t.Fatalf("token of a revoked client: %d", s)
		}
		if _, err := cc.Token(ctx); err == nil {
			t.Fatal("a revoked client got a token")
		}

		// Only hashes are stored.
		for _, q := range []string{"SELECT hash FROM oauth_tokens", "SELECT secret_hash FROM oauth_clients"} {
			rows, err := e.srv.DB.SQL().Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var h []byte
				rows.Scan(&h)
				if bytes.Contains(h, []byte("spat_")) || bytes.Contains(h, []byte("spcs_")) {
					t.Fatal("credential stored in clear")
				}
			}
			rows.Close()
		}
		// Failures were audited (as the anonymous principal: a refused token names no one).
		entries, err := e.srv.DB.AuditEntries(ctx, store.AuditFilter{Action: "POST /v1/messages", Principal: "anonymous", Limit: 100})
		if err != nil || len(entries) < 3 {
			t.Errorf("refused tokens audited %d times (%v), want at least 3", len(entries), err)
		}
		entries, _ = e.srv.DB.AuditEntries(ctx, store.AuditFilter{Action: "POST /oauth/token", Principal: "key:" + id, Limit: 100})
		if len(entries) == 0 {
			t.Error("token grants not audited under the client")
		}
	})
}

// TestOAuthJWTAndPrivateKeyJWT: JWT access tokens verify against the published JWKS
// with jose, an independent verifier; private_key_jwt clients authenticate with a signed
// assertion, and a wrong key, a replayed jti or a wrong audience fail with the reason.
func TestOAuthJWTAndPrivateKeyJWT(t *testing.T) {
	chk := startChecker(t)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		ctx := context.Background()
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub, _ := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: "ES256"}.MarshalJSON()
		var jwk map[string]any
		json.Unmarshal(pub, &jwk)
		id, secret := createClient(t, e, map[string]any{"name": "engine", "scopes": []string{"send"}, "token_format": "jwt", "public_jwk": jwk, "no_secret": true})
		if secret != "" {
			t.Fatal("a client without a secret was given one")
		}

		assertion := func(key *ecdsa.PrivateKey, aud, jti string) string {
			sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
			now := time.Now()
			s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: id, Subject: id, Audience: jwt.Audience{aud}, ID: jti,
				IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		tokenWith := func(a string) (*oauth2.Token, error) {
			cc := clientcredentials.Config{ClientID: id, TokenURL: e.base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams,
				EndpointParams: url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}}
			return cc.Token(ctx)
		}
		good := assertion(priv, e.base+"/oauth/token", "jti-1")
		tok, err := tokenWith(good)
		if err != nil {
			t.Fatalf("private_key_jwt: %v", err)
		}
		// jose checks the token's signature against our JWKS, its typ, issuer, audience.
		payload, ok := chk.verifyJWT(e.base, tok.AccessToken)
		if !ok {
			t.Fatalf("jose does not verify our access token")
		}
		if payload["client_id"] != id || payload["scope"] != "send" {
			t.Errorf("token claims: %v", payload)
		}
		if s, res := e.send(tok.AccessToken, simple("p@patient.example")); s != 202 {
			t.Fatalf("send with JWT: %d %v", s, res)
		}
		// A token with a flipped signature byte fails for jose and for us.
		forged := tok.AccessToken[:len(tok.AccessToken)-5] + flip(tok.AccessToken[len(tok.AccessToken)-5:len(tok.AccessToken)-4]) + tok.AccessToken[len(tok.AccessToken)-4:]
		if _, ok := chk.verifyJWT(e.base, forged); ok {
			t.Error("jose accepted a forged token")
		}
		if s, _ := e.send(forged, simple("p@patient.example")); s != 401 {
			t.Errorf("forged JWT: %d", s)
		}
		// Revoked JWTs fail too: the server keeps their hash.
		oauthForm := url.Values{"token": {tok.AccessToken}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {assertion(priv, e.base+"/oauth/token", "jti-revoke")}}
		resp, err := http.PostForm(e.base+"/oauth/revoke", oauthForm)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("revoke JWT: %v %v", err, resp)
		}
		resp.Body.Close()
		if s, _ := e.send(tok.AccessToken, simple("p@patient.example")); s != 401 {
			t.Errorf("revoked JWT: %d", s)
		}

		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		for name, c := range map[string]struct{ assertion, want string }{
			"replayed jti":   {good, "already used"},
			"wrong key":      {assertion(other, e.base+"/oauth/token", "jti-2"), "client authentication failed"},
			"wrong audience": {assertion(priv, "https://elsewhere.example/oauth/token", "jti-3"), "audience"},
		} {
			_, err := tokenWith(c.assertion)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || !strings.Contains(re.ErrorDescription, c.want) {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

func flip(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}

// checker is the independent JWT verifier and RFC 9421 signer in testdata/access,
// one Node process per test answering a line per request.
type checker struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Reader
	mu  sync.Mutex
}

func startChecker(t *testing.T) *checker {
	t.Helper()
	dir, _ := filepath.Abs("testdata/access")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("need node (scripts/deps.sh installs it)")
	}
	for _, pkg := range []string{"jose", "http-message-signatures"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			t.Fatalf("need the checker's packages: run scripts/deps.sh (npm ci in %s)", dir)
		}
	}
	cmd := exec.Command("node", "checker.mjs")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return &checker{t: t, in: in, out: bufio.NewReader(out)}
}

func (c *checker) call(req map[string]any, out any) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		c.t.Fatal(err)
	}
	line, err := c.out.ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("checker: %v", err)
	}
	if err := json.Unmarshal(line, out); err != nil {
		c.t.Fatalf("checker answered %q: %v", line, err)
	}
}

// verifyJWT asks jose to verify an access token against the server's JWKS.
func (c *checker) verifyJWT(issuer, token string) (map[string]any, bool) {
	var res struct {
		OK      bool           `json:"ok"`
		Payload map[string]any `json:"payload"`
		Error   string         `json:"error"`
	}
	c.call(map[string]any{"op": "verify-jwt", "issuer": issuer, "token": token}, &res)
	return res.Payload, res.OK
}

// TestBasicWithCurl: curl -u with an API key's id and secret sends a message; a secret
// under another key's id is refused.
func TestBasicWithCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("need curl (scripts/deps.sh installs it)")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		secret, k, err := e.srv.Tenants.CreateKey(context.Background(), e.tenant, tenant.KeyOptions{Scopes: []string{"send"}})
		if err != nil {
			t.Fatal(err)
		}
		_, other, _ := e.srv.Tenants.CreateKey(context.Background(), e.tenant, tenant.KeyOptions{Scopes: []string{"send"}})
		body, _ := json.Marshal(simple("p@patient.example"))
		curl := func(user string) string {
			out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", user, "-H", "Content-Type: application/json",
				"--data-binary", string(body), e.base+"/v1/messages").Output()
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
		if got := curl(k.ID + ":" + secret); got != "202" {
			t.Fatalf("curl -u: %s", got)
		}
		if got := curl(other.ID + ":" + secret); got != "401" {
			t.Errorf("secret under another key's id: %s", got)
		}
		if got := curl(k.ID + ":sp_live_wrong"); got != "401" {
			t.Errorf("wrong secret: %s", got)
		}
	})
}

// TestRateLimits: past a credential's burst the API answers 429 with Retry-After and
// the RateLimit fields; a refused request spends nothing of the tenant's bucket; the
// tenant's bucket holds across its credentials; another tenant is never slowed.
func TestRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{configure: func(c *config.Config) {
			c.Access.CredentialRate, c.Access.CredentialBurst = 1, 3
			c.Access.TenantRate, c.Access.TenantBurst = 1, 5
		}})
		_, otherKey := e.addTenant("lab", "lab.example")
		second, _, _ := e.srv.Tenants.CreateKey(context.Background(), e.tenant, tenant.KeyOptions{Scopes: []string{"read"}})
		get := func(key string) *http.Response {
			req, _ := http.NewRequest("GET", e.base+"/v1/events", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		for i := range 3 {
			r := get(e.key)
			if r.StatusCode != 200 {
				t.Fatalf("request %d: %d", i, r.StatusCode)
			}
			if want := `"credential";q=3;w=3, "tenant";q=5;w=5`; r.Header.Get("RateLimit-Policy") != want {
				t.Fatalf("RateLimit-Policy %q, want %q", r.Header.Get("RateLimit-Policy"), want)
			}
			if !strings.HasPrefix(r.Header.Get("RateLimit"), `"credential";r=`+strconv.Itoa(2-i)+";") {
				t.Errorf("request %d: RateLimit %q", i, r.Header.Get("RateLimit"))
			}
		}
		r := get(e.key)
		if r.StatusCode != 429 || r.Header.Get("Retry-After") != "1" || r.Header.Get("RateLimit") == "" {
			t.Fatalf("past the burst: %d Retry-After %q RateLimit %q", r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("RateLimit"))
		}
		// Another tenant, meanwhile, has its whole burst.
		if r := get(otherKey); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("RateLimit"), `"credential";r=2;`) || !strings.Contains(r.Header.Get("RateLimit"), `"tenant";r=4;`) {
			t.Fatalf("other tenant: %d %q", r.StatusCode, r.Header.Get("RateLimit"))
		}
		// The tenant's bucket spans its credentials: a second key has the 2 left of 5
		// (the refused request took none).
		for i := range 2 {
			if r := get(second); r.StatusCode != 200 {
				t.Fatalf("second key, request %d: %d", i, r.StatusCode)
			}
		}
		if r := get(second); r.StatusCode != 429 {
			t.Fatalf("second key past the tenant's burst: %d", r.StatusCode)
		}
		// Another scope has its own buckets.
		if s, _ := e.send(e.key, simple("p@patient.example")); s != 202 {
			t.Fatalf("send scope: %d", s)
		}
	})
}

// signer signs requests with the independent RFC 9421 implementation in testdata.
type signer struct {
	t               *testing.T
	e               *env
	chk             *checker
	alg, key, keyid string
	nonce           int
}

type signed struct {
	method, url, body string
	headers           map[string]string
}

func (s *signer) sign(method, path, body string, extra map[string]string, created time.Time) *signed {
	s.t.Helper()
	s.nonce++
	fields := []string{"@method", "@target-uri"}
	hdr := map[string]string{"content-type": "application/json"}
	if body != "" {
		fields = append(fields, "content-digest")
	}
	for k, v := range extra {
		hdr[k] = v
		fields = append(fields, k)
	}
	var res struct {
		Headers map[string]string `json:"headers"`
	}
	s.chk.call(map[string]any{"op": "sign", "method": method, "url": s.e.base + path, "headers": hdr, "body": body, "alg": s.alg, "key": s.key,
		"keyid": s.keyid, "nonce": fmt.Sprintf("n-%d-%d", time.Now().UnixNano(), s.nonce), "created": created.Unix(), "fields": fields}, &res)
	return &signed{method: method, url: s.e.base + path, body: body, headers: res.Headers}
}

func (r *signed) send(t *testing.T) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(r.method, r.url, strings.NewReader(r.body))
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("%d without problem+json", resp.StatusCode)
	}
	return resp.StatusCode, out
}

// TestSignedRequestSessions: requests signed by an independent RFC 9421 signer open a
// session and send under it; tampering with any covered component, an old signature
// and a replayed nonce are each refused with the reason; a revoked session, or every
// session of a client, is refused at the next request.
func TestSignedRequestSessions(t *testing.T) {
	chk := startChecker(t)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{})
		id, _ := createClient(t, e, map[string]any{"name": "engine", "scopes": []string{"send", "read"}})
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		s, k := e.do("POST", "/v1/oauth-clients/"+id+"/signature-keys", e.key, map[string]any{"alg": "ed25519", "public_key": base64.StdEncoding.EncodeToString(pub)})
		if s != 201 {
			t.Fatalf("register key: %d %v", s, k)
		}
		ed := &signer{t: t, e: e, chk: chk, alg: "ed25519", key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), keyid: k["keyid"].(string)}
		s, hk := e.do("POST", "/v1/oauth-clients/"+id+"/signature-keys", e.key, map[string]any{"alg": "hmac-sha256"})
		if s != 201 || hk["secret"] == nil {
			t.Fatalf("register hmac key: %d %v", s, hk)
		}
		hm := &signer{t: t, e: e, chk: chk, alg: "hmac-sha256", key: hk["secret"].(string), keyid: hk["keyid"].(string)}

		open := func(sg *signer) string {
			s, sess := sg.sign("POST", "/v1/sessions", "", nil, time.Now()).send(t)
			if s != 201 {
				t.Fatalf("open session: %d %v", s, sess)
			}
			return sess["id"].(string)
		}
		msg, _ := json.Marshal(simple("p@patient.example"))
		body := string(msg)
		sess := open(ed)
		under := map[string]string{"sealpost-session": sess}
		if s, res := ed.sign("POST", "/v1/messages", body, under, time.Now()).send(t); s != 202 {
			t.Fatalf("signed send: %d %v", s, res)
		}
		// HMAC keys sign as well.
		hsess := open(hm)
		if s, res := hm.sign("POST", "/v1/messages", body, map[string]string{"sealpost-session": hsess}, time.Now()).send(t); s != 202 {
			t.Fatalf("hmac signed send: %d %v", s, res)
		}

		refused := func(name string, r *signed, reason string) {
			t.Helper()
			s, p := r.send(t)
			if s != 401 || !strings.Contains(fmt.Sprint(p["detail"]), reason) {
				t.Errorf("%s: %d %v, want 401 %q", name, s, p["detail"], reason)
			}
		}
		// No session: only POST /v1/sessions may be called.
		refused("no session", ed.sign("POST", "/v1/messages", body, nil, time.Now()), "open a session")
		// Tampering with each covered component.
		r := ed.sign("POST", "/v1/messages", body, under, time.Now())
		r.url += "?x=1"
		refused("tampered @target-uri", r, "does not verify")
		r = ed.sign("POST", "/v1/messages", body, under, time.Now())
		r.body = strings.Replace(body, "patient", "pateint", 1)
		refused("tampered body", r, "Content-Digest sha-256 does not match")
		r = ed.sign("POST", "/v1/messages", body, under, time.Now())
		r.body = strings.Replace(body, "patient", "pateint", 1)
		sum := sha256.Sum256([]byte(r.body))
		r.headers["content-digest"] = "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
		refused("tampered content-digest", r, "does not verify")
		r = ed.sign("POST", "/v1/messages", body, under, time.Now())
		r.headers["sealpost-session"] = hsess
		refused("tampered session", r, "does not verify")
		r = ed.sign("POST", "/v1/messages", body, under, time.Now())
		r.method = "PATCH"
		r.url = e.base + "/v1/messages/x/portal"
		refused("tampered @method and path", r, "does not verify")
		// An old signature, and a replayed one.
		refused("expired", ed.sign("POST", "/v1/messages", body, under, time.Now().Add(-6*time.Minute)), "outside the 5-minute window")
		r = ed.sign("POST", "/v1/messages", body, under, time.Now())
		if s, _ := r.send(t); s != 202 {
			t.Fatalf("fresh signed send: %d", s)
		}
		refused("replayed nonce", r, "nonce was already used")
		// An unknown key id reads as a wrong signature.
		unknown := &signer{t: t, e: e, chk: chk, alg: ed.alg, key: ed.key, keyid: "sk_unknown"}
		refused("unknown keyid", unknown.sign("POST", "/v1/messages", body, under, time.Now()), "does not verify with a registered key")

		// An administrator revokes the session: the next request under it is refused.
		if s, _ := e.do("DELETE", "/v1/sessions/"+sess, e.key, nil); s != 204 {
			t.Fatalf("revoke session: %d", s)
		}
		refused("revoked session", ed.sign("POST", "/v1/messages", body, under, time.Now()), "session is revoked")
		// And every session of the client at once.
		s1, s2 := open(ed), open(ed)
		if s, out := e.do("DELETE", "/v1/oauth-clients/"+id+"/sessions", e.key, nil); s != 200 || out["revoked"] != float64(3) {
			t.Fatalf("revoke client sessions: %d %v", s, out)
		}
		for _, x := range []string{s1, s2, hsess} {
			refused("client's sessions revoked", ed.sign("GET", "/v1/events", "", map[string]string{"sealpost-session": x}, time.Now()), "session is revoked")
		}
		if s, out := e.do("GET", "/v1/sessions", e.key, nil); s != 200 || len(out["sessions"].([]any)) != 4 {
			t.Fatalf("list sessions: %d %v", s, out)
		}
	})
}

// TestAccessAnomalies: a credential sending far above its own baseline raises exactly
// one access.anomaly event and audit entry; a credential used from a network it never
// used raises one too and, the account having chosen so, is suspended at once.
func TestAccessAnomalies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, envOptions{configure: func(c *config.Config) {
			c.Access.AnomalyWindow, c.Access.AnomalyFactor, c.Access.AnomalyFloor, c.Access.AnomalyWarmup = "250ms", 5, 10, 3
		}})
		ctx := context.Background()
		get := func(c *http.Client, key string) int {
			req, _ := http.NewRequest("GET", e.base+"/v1/events?limit=1", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		anomalies := func() []map[string]any { return e.events("type=access.anomaly") }

		// Volume: a steady request per window, then a burst of 40 in one.
		key, k, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"read"}})
		for range 5 {
			get(http.DefaultClient, key)
			time.Sleep(260 * time.Millisecond)
		}
		if n := len(anomalies()); n != 0 {
			t.Fatalf("steady use raised %d anomalies", n)
		}
		for range 40 {
			if s := get(http.DefaultClient, key); s != 200 {
				t.Fatalf("burst: %d (no suspension was chosen)", s)
			}
		}
		evs := anomalies()
		if len(evs) != 1 {
			t.Fatalf("burst raised %d anomalies, want 1", len(evs))
		}
		entries, _ := e.srv.DB.AuditEntries(ctx, store.AuditFilter{Action: "access.anomaly", Limit: 10})
		if len(entries) != 1 || entries[0].Object != k.ID || !strings.HasPrefix(entries[0].Detail, "volume") {
			t.Fatalf("audit: %+v", entries)
		}

		// A new network, with suspension chosen.
		if s, _ := e.do("PUT", "/v1/access/settings", e.key, map[string]any{"suspend_on_anomaly": true}); s != 200 {
			t.Fatalf("settings: %d", s)
		}
		key2, k2, _ := e.srv.Tenants.CreateKey(ctx, e.tenant, tenant.KeyOptions{Scopes: []string{"read"}})
		if s := get(http.DefaultClient, key2); s != 200 {
			t.Fatalf("first network: %d", s)
		}
		// 127.0.1.1 is loopback too, but another /24.
		other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, 1)}}).DialContext}}
		get(other, key2)
		if s := get(other, key2); s != 401 {
			t.Fatalf("suspended credential: %d", s)
		}
		if s := get(http.DefaultClient, key2); s != 401 {
			t.Fatalf("suspended credential from its old network: %d", s)
		}
		if evs := anomalies(); len(evs) != 2 {
			t.Fatalf("%d anomalies, want 2", len(evs))
		}
		entries, _ = e.srv.DB.AuditEntries(ctx, store.AuditFilter{Action: "access.anomaly", Limit: 10})
		if len(entries) != 2 || entries[1].Object != k2.ID || !strings.Contains(entries[1].Detail, "new_network: network 127.0.1.0/24; credential suspended") {
			t.Fatalf("audit: %+v", entries[len(entries)-1])
		}
	})
}
