package people

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sealpost/sealpost/internal/store"
)

// Single sign-on through a tenant's OpenID Connect provider (Google Workspace,
// Microsoft Entra ID, …): the authorization-code flow with PKCE, state and nonce,
// bound to a short-lived cookie. Only people already invited to the tenant get in;
// nobody signs up this way. The provider's word on multi-factor authentication (the
// ID token's amr) is trusted only when the tenant says so; otherwise our own second
// factor is still owed after the provider's sign-in.

// Errors of single sign-on.
var (
	ErrNoSSO = errors.New("single sign-on is not set up for this address; sign in with your password")
	ErrSSO   = errors.New("single sign-on did not succeed; try again or sign in with your password")
)

// OIDCSettings configure a tenant's provider.
type OIDCSettings struct {
	Issuer, ClientID, ClientSecret string
	EmailDomain                    string // addresses of this domain sign in through the provider
	TrustAMR                       bool   // the provider's MFA (amr mfa, otp or hwk) stands in for ours
}

// ssoLife is how long a sign-on at the provider may take.
const ssoLife = 10 * time.Minute

// mfaAMR are the amr values (RFC 8176) that say the provider checked a second factor.
var mfaAMR = []string{"mfa", "otp", "hwk"}

type oidcCache struct {
	mu        sync.Mutex
	providers map[string]*oidc.Provider
}

// oidcContext carries the HTTP client for discovery, keys and the code exchange:
// go-oidc and x/oauth2 each look for it under their own key.
func (s *Service) oidcContext(ctx context.Context) context.Context {
	c := &http.Client{Timeout: 15 * time.Second}
	return context.WithValue(oidc.ClientContext(ctx, c), oauth2.HTTPClient, c)
}

// provider discovers an issuer once; its key set then refreshes itself.
func (s *Service) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if p, ok := s.oidc.providers[issuer]; ok {
		return p, nil
	}
	p, err := oidc.NewProvider(s.oidcContext(ctx), issuer)
	if err != nil {
		return nil, err
	}
	if s.oidc.providers == nil {
		s.oidc.providers = map[string]*oidc.Provider{}
	}
	s.oidc.providers[issuer] = p
	return p, nil
}

// RedirectURL is the address to register with the provider.
func (s *Service) RedirectURL() string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/app/sso/callback"
}

func secretAAD(tenantID string) string { return "tenant/" + tenantID + "/oidc" }

// SetOIDC sets a tenant's provider, its client secret sealed under the tenant key.
func (s *Service) SetOIDC(ctx context.Context, by Actor, tenantID string, set OIDCSettings) error {
	var errs []error
	u, err := url.Parse(set.Issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, &InvalidError{"issuer", "an absolute https URL, such as https://accounts.google.com"})
	} else if u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname())) {
		errs = append(errs, &InvalidError{"issuer", "must use https"})
	}
	if strings.TrimSpace(set.ClientID) == "" {
		errs = append(errs, &InvalidError{"client_id", "required: the client (application) id the provider issued"})
	}
	if set.ClientSecret == "" {
		errs = append(errs, &InvalidError{"client_secret", "required: the client secret the provider issued"})
	}
	domain := strings.ToLower(strings.TrimSpace(set.EmailDomain))
	if domain == "" || strings.ContainsAny(domain, "@/ ") || !strings.Contains(domain, ".") {
		errs = append(errs, &InvalidError{"email_domain", "the domain of the addresses that sign in this way, such as clinic.example"})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	keys, err := s.tenants.Keys(ctx, tenantID)
	if err != nil {
		return err
	}
	e := s.entry(tenantID, by.Principal, "oidc.set", tenantID, "ok", by.Client)
	e.Detail = "issuer=" + set.Issuer + " domain=" + domain
	err = s.db.PutOIDCProvider(ctx, &store.OIDCProvider{TenantID: tenantID, Issuer: strings.TrimRight(set.Issuer, "/"), ClientID: set.ClientID,
		ClientSecret: keys.Data.SealString(set.ClientSecret, secretAAD(tenantID)), EmailDomain: domain, TrustAMR: set.TrustAMR, CreatedAt: s.Now()}, e)
	if errors.Is(err, store.ErrConflict) {
		return &InvalidError{"email_domain", "another organisation already signs in this domain"}
	}
	return err
}

// RemoveOIDC turns a tenant's single sign-on off.
func (s *Service) RemoveOIDC(ctx context.Context, by Actor, tenantID string) error {
	return s.db.DeleteOIDCProvider(ctx, tenantID, s.entry(tenantID, by.Principal, "oidc.remove", tenantID, "ok", by.Client))
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

func (s *Service) oauthConfig(ctx context.Context, p *store.OIDCProvider) (*oauth2.Config, *oidc.Provider, error) {
	op, err := s.provider(ctx, p.Issuer)
	if err != nil {
		return nil, nil, err
	}
	keys, err := s.tenants.Keys(ctx, p.TenantID)
	if err != nil {
		return nil, nil, err
	}
	secret, err := keys.Data.OpenString(p.ClientSecret, secretAAD(p.TenantID))
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: s.RedirectURL(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, op, nil
}

// StartOIDC begins single sign-on for an address: it returns the value of the
// short-lived cookie that binds the browser to this sign-on, and where to send it.
// The provider is chosen by the address's domain, so nothing here says whether the
// person exists.
func (s *Service) StartOIDC(ctx context.Context, email string) (cookie, redirect string, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "", "", ErrNoSSO
	}
	p, err := s.db.OIDCProviderByDomain(ctx, email[at+1:])
	if errors.Is(err, store.ErrNotFound) {
		return "", "", ErrNoSSO
	}
	if err != nil {
		return "", "", err
	}
	conf, _, err := s.oauthConfig(ctx, p)
	if err != nil {
		return "", "", err
	}
	cookie, state, nonce, verifier := token(), token(), token(), oauth2.GenerateVerifier()
	now := s.Now()
	if err := s.db.PutOIDCLogin(ctx, &store.OIDCLogin{Hash: tokenHash("sso", cookie), TenantID: p.TenantID, State: state, Nonce: nonce, Verifier: verifier, ExpiresAt: now.Add(ssoLife)}, now); err != nil {
		return "", "", err
	}
	return cookie, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", email)), nil
}

// idClaims are the ID token's claims we act on.
type idClaims struct {
	Email         string   `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	AMR           []string `json:"amr"`
}

// FinishOIDC completes single sign-on at the callback: the cookie's sign-on is taken
// (once), the state must match, the code is exchanged with the PKCE verifier, and the
// ID token must verify (signature, issuer, audience, expiry) and carry our nonce and
// a verified address of the tenant's domain belonging to a person of that tenant.
// The session it returns owes our second factor (or its enrolment) unless the
// tenant trusts the provider's amr and it names one.
func (s *Service) FinishOIDC(ctx context.Context, cookie, state, code, client string) (tok, stage string, err error) {
	l, err := s.db.TakeOIDCLogin(ctx, tokenHash("sso", cookie), s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return "", "", s.ssoFail(ctx, "", nil, "no sign-on under way for this browser, or it expired", client)
	}
	if err != nil {
		return "", "", err
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(l.State)) != 1 {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "state mismatch", client)
	}
	if code == "" {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "the provider returned no code", client)
	}
	p, err := s.db.OIDCProviderFor(ctx, l.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "single sign-on was turned off", client)
	}
	if err != nil {
		return "", "", err
	}
	conf, op, err := s.oauthConfig(ctx, p)
	if err != nil {
		return "", "", err
	}
	octx := s.oidcContext(ctx)
	tk, err := conf.Exchange(octx, code, oauth2.VerifierOption(l.Verifier))
	if err != nil {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "code exchange refused", client)
	}
	raw, _ := tk.Extra("id_token").(string)
	if raw == "" {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "no ID token", client)
	}
	idt, err := op.VerifierContext(octx, &oidc.Config{ClientID: p.ClientID, Now: s.Now}).Verify(octx, raw)
	if err != nil {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "ID token did not verify (signature, issuer, audience or expiry)", client)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(l.Nonce)) != 1 {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "nonce mismatch", client)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "unreadable claims", client)
	}
	email := strings.ToLower(c.Email)
	if c.EmailVerified == nil || !*c.EmailVerified || !strings.HasSuffix(email, "@"+p.EmailDomain) {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "address missing, unverified or outside the tenant's domain", client)
	}
	u, err := s.db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.TenantID != l.TenantID {
		return "", "", s.ssoFail(ctx, l.TenantID, nil, "no such person in this organisation", client)
	}
	if err != nil {
		return "", "", err
	}
	if !u.DisabledAt.IsZero() {
		return "", "", s.ssoFail(ctx, l.TenantID, u, "disabled", client)
	}
	if s.Now().Before(u.LockedUntil) {
		return "", "", &LockedError{u.LockedUntil}
	}
	trusted := p.TrustAMR && slices.ContainsFunc(c.AMR, func(a string) bool { return slices.Contains(mfaAMR, a) })
	switch {
	case trusted:
		tok, sess := s.newSession(u, StageFull, s.cfg.AbsoluteTimeout, client)
		e := s.entry(u.TenantID, "user:"+u.ID, "signin.success", u.ID, "ok", client)
		e.Detail = "oidc, provider mfa amr=" + strings.Join(c.AMR, " ")
		return tok, StageFull, s.db.InsertSession(ctx, sess, e)
	case !u.MFAEnabled:
		secret, err := s.newSecret(ctx, u)
		if err != nil {
			return "", "", err
		}
		tok, sess := s.newSession(u, StageEnroll, 15*time.Minute, client)
		return tok, StageEnroll, s.db.StartEnrolment(ctx, u.ID, secret, sess, s.entry(u.TenantID, "user:"+u.ID, "signin.oidc", u.ID, "enrol", client))
	}
	tok, sess := s.newSession(u, StageMFA, 5*time.Minute, client)
	return tok, StageMFA, s.db.InsertSession(ctx, sess, s.entry(u.TenantID, "user:"+u.ID, "signin.oidc", u.ID, "ok", client))
}

// ssoFail audits a refused single sign-on; the reason goes to the audit trail, the
// browser hears only that it did not succeed.
func (s *Service) ssoFail(ctx context.Context, tenantID string, u *store.User, why, client string) error {
	principal, object := "anonymous", ""
	if u != nil {
		principal, object = "user:"+u.ID, u.ID
	}
	e := s.entry(tenantID, principal, "signin.sso_failure", object, "refused", client)
	e.Detail = why
	if err := s.db.AppendAudit(ctx, e); err != nil {
		return err
	}
	return ErrSSO
}

// SSOAvailable reports whether any tenant has single sign-on, so the sign-in page
// offers it.
func (s *Service) SSOAvailable(ctx context.Context) bool {
	ok, err := s.db.HasOIDCProviders(ctx)
	return err == nil && ok
}
