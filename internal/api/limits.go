package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/ratelimit"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Limits are the request limits: each credential and each tenant has a bucket per
// scope, refilled at Rate per second up to Burst. Zero rates limit nothing. The buckets
// live in each process's memory: with N API processes behind a balancer, a credential
// may reach up to N times these rates.
type Limits struct {
	CredentialRate  float64
	CredentialBurst int
	TenantRate      float64
	TenantBurst     int
}

type limiters struct {
	credential, tenant *ratelimit.Limiter
	own                *ownLimiters
}

// ownLimiters hold the buckets of credentials that carry their own rate limit: one
// limiter per distinct policy, made when first needed. Their number is bounded by the
// number of credentials with a limit of their own.
type ownLimiters struct {
	mu sync.Mutex
	m  map[ratelimit.Policy]*ratelimit.Limiter
}

// credentialLimiter is the limiter for p's credential: its own, or the default.
func (l limiters) credentialLimiter(p *tenant.Principal) *ratelimit.Limiter {
	if p.Access.RatePerSecond <= 0 || p.Access.RateBurst <= 0 || l.own == nil {
		return l.credential
	}
	pol := ratelimit.Policy{Name: "credential", Rate: p.Access.RatePerSecond, Burst: p.Access.RateBurst}
	l.own.mu.Lock()
	defer l.own.mu.Unlock()
	lim, ok := l.own.m[pol]
	if !ok {
		lim = ratelimit.New(pol)
		l.own.m[pol] = lim
	}
	return lim
}

func newLimiters(l Limits) limiters {
	return limiters{
		credential: ratelimit.New(ratelimit.Policy{Name: "credential", Rate: l.CredentialRate, Burst: l.CredentialBurst}),
		tenant:     ratelimit.New(ratelimit.Policy{Name: "tenant", Rate: l.TenantRate, Burst: l.TenantBurst}),
		own:        &ownLimiters{m: map[ratelimit.Policy]*ratelimit.Limiter{}},
	}
}

// limit counts the request against its credential's and its tenant's buckets for the
// route's scope, sets the RateLimit fields, and refuses with 429 and Retry-After when a
// bucket is empty.
func (s *Server) limit(w http.ResponseWriter, p *tenant.Principal, scope string) error {
	states, ok := ratelimit.Take(time.Now(),
		ratelimit.Check{L: s.limits.credentialLimiter(p), Key: p.KeyID + "\x00" + scope},
		ratelimit.Check{L: s.limits.tenant, Key: p.TenantID + "\x00" + scope})
	if len(states) == 0 {
		return nil
	}
	policy, limit, retry := ratelimit.Headers(states)
	w.Header().Set("RateLimit-Policy", policy)
	w.Header().Set("RateLimit", limit)
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", retry)
	if s.OnAuthFailure != nil {
		s.OnAuthFailure("limit", "rate")
	}
	return problem(429, "Too many requests", "the request rate of this credential or account for the "+scope+" scope is above its limit; retry after "+retry+" s")
}
