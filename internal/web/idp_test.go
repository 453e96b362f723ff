package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// idp is an OpenID Connect provider for tests, behaving as Google's and Entra's do on
// the parts Sealpost uses: discovery, a JWKS, the authorization endpoint (which
// signs in whoever the test says, as if the person had typed their password there)
// and the token endpoint, which checks the client's secret, the code (once), the
// redirect URI and the PKCE verifier, and returns an RS256-signed ID token.
type idp struct {
	t              *testing.T
	srv            *httptest.Server
	key            *rsa.PrivateKey
	clientID, pass string

	mu    sync.Mutex
	codes map[string]grant
	// What the next sign-in asserts, and how the test bends it.
	Email    string
	Verified bool
	AMR      []string
	Audience string // "" for the client id
	Nonce    string // "" for the nonce the client sent
}

type grant struct {
	challenge, redirect string
	claims              map[string]any
}

func newIDP(t *testing.T) *idp {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{t: t, key: key, clientID: "sealpost-test-client", pass: "client-secret-of-the-test", codes: map[string]grant{}, Verified: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) issuer() string { return p.srv.URL }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *idp) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{"issuer": p.issuer(), "authorization_endpoint": p.issuer() + "/authorize", "token_endpoint": p.issuer() + "/token",
		"jwks_uri": p.issuer() + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		"scopes_supported": []string{"openid", "email", "profile"}, "claims_supported": []string{"sub", "email", "email_verified", "amr", "nonce"}})
}

func (p *idp) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// authorize refuses what a real provider refuses (unknown client, no PKCE, no
// openid scope) by redirecting with an error, and otherwise signs the person in.
func (p *idp) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	back := func(v url.Values) { http.Redirect(w, r, redirect+"?"+v.Encode(), http.StatusFound) }
	if q.Get("client_id") != p.clientID || redirect == "" {
		http.Error(w, "unknown client", 400)
		return
	}
	if q.Get("response_type") != "code" || !slices.Contains(strings.Fields(q.Get("scope")), "openid") || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		back(url.Values{"error": {"invalid_request"}, "state": {q.Get("state")}})
		return
	}
	p.mu.Lock()
	now := time.Now()
	aud, nonce := p.Audience, p.Nonce
	if aud == "" {
		aud = p.clientID
	}
	if nonce == "" {
		nonce = q.Get("nonce")
	}
	claims := map[string]any{"iss": p.issuer(), "sub": "sub-" + p.Email, "aud": aud, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": nonce, "email": p.Email, "email_verified": p.Verified}
	if p.AMR != nil {
		claims["amr"] = p.AMR
	}
	code := base64.RawURLEncoding.EncodeToString([]byte(time.Now().String() + p.Email))
	p.codes[code] = grant{challenge: q.Get("code_challenge"), redirect: redirect, claims: claims}
	p.mu.Unlock()
	back(url.Values{"code": {code}, "state": {q.Get("state")}})
}

func (p *idp) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.pass)) != 1 {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		p.t.Error(err)
		return
	}
	idt, err := jwt.Signed(signer).Claims(g.claims).Serialize()
	if err != nil {
		p.t.Error(err)
		return
	}
	writeJSON(w, 200, map[string]any{"access_token": "at-" + r.PostForm.Get("code"), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}
