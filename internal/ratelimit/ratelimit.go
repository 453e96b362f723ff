// Package ratelimit keeps token buckets by key in this process's memory and describes
// them in the RateLimit-Policy and RateLimit header fields (draft-ietf-httpapi-
// ratelimit-headers). It knows nothing of tenants or credentials: callers choose keys.
package ratelimit

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Policy is a token bucket: Burst requests at once, refilled at Rate per second.
type Policy struct {
	Name  string  // the policy's name in the header fields
	Rate  float64 // sustained requests per second
	Burst int
}

// window is the time an empty bucket takes to fill: the "w" of the policy.
func (p Policy) window() int {
	return int(math.Ceil(float64(p.Burst) / p.Rate))
}

// maxKeys bounds memory: past it, buckets that are full (idle) are forgotten, which
// loses nothing since a new bucket starts full.
const maxKeys = 100_000

// Limiter is a set of buckets under one policy.
type Limiter struct {
	p  Policy
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// New makes a limiter; a policy with Rate <= 0 limits nothing.
func New(p Policy) *Limiter {
	return &Limiter{p: p, m: map[string]*rate.Limiter{}}
}

// Policy is the limiter's policy.
func (l *Limiter) Policy() Policy { return l.p }

// Enabled reports whether the limiter limits anything.
func (l *Limiter) Enabled() bool { return l != nil && l.p.Rate > 0 && l.p.Burst > 0 }

func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxKeys {
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.p.Burst) {
					delete(l.m, k)
				}
			}
		}
		b = rate.NewLimiter(rate.Limit(l.p.Rate), l.p.Burst)
		l.m[key] = b
	}
	return b
}

// State is one bucket after a request was counted (or refused).
type State struct {
	Policy    Policy
	Remaining int           // requests still allowed at once
	Reset     time.Duration // until the bucket is full again
	Wait      time.Duration // until the next request is allowed (0 when allowed)
}

// reservation is a taken token that may be handed back.
type reservation struct {
	r   *rate.Reservation
	now time.Time
	l   *Limiter
	b   *rate.Limiter
	i   int // index of its state
}

// take counts one request against key, or refuses it and takes nothing.
func (l *Limiter) take(key string, now time.Time) (State, *reservation, bool) {
	b := l.bucket(key, now)
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); !r.OK() || d > 0 {
		r.CancelAt(now)
		return l.state(b, now, d), nil, false
	}
	return l.state(b, now, 0), &reservation{r: r, now: now, l: l, b: b}, true
}

func (l *Limiter) state(b *rate.Limiter, now time.Time, wait time.Duration) State {
	tokens := b.TokensAt(now)
	missing := float64(l.p.Burst) - tokens
	return State{Policy: l.p, Remaining: max(0, int(math.Floor(tokens))), Reset: time.Duration(missing / l.p.Rate * float64(time.Second)), Wait: wait}
}

// Check is one key per limiter.
type Check struct {
	L   *Limiter
	Key string
}

// Take counts one request against every check, all or nothing: if any refuses, the
// tokens the others took are handed back, so a request refused by its tenant's limit
// does not also spend its credential's. It returns every check's state.
func Take(now time.Time, checks ...Check) ([]State, bool) {
	var taken []*reservation
	var states []State
	ok := true
	for _, c := range checks {
		if !c.L.Enabled() {
			continue
		}
		st, r, allowed := c.L.take(c.Key, now)
		states = append(states, st)
		if !allowed {
			ok = false
			continue
		}
		r.i = len(states) - 1
		taken = append(taken, r)
	}
	if !ok {
		for _, r := range taken {
			r.r.CancelAt(r.now)
			states[r.i] = r.l.state(r.b, r.now, 0) // the token is back: say so
		}
	}
	return states, ok
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

// Headers renders the RateLimit-Policy and RateLimit fields (structured-field lists,
// one item per policy) and, when refused, Retry-After in whole seconds.
func Headers(states []State) (policy, limit, retryAfter string) {
	var wait time.Duration
	for i, s := range states {
		if i > 0 {
			policy += ", "
			limit += ", "
		}
		policy += fmt.Sprintf("%q;q=%d;w=%d", s.Policy.Name, s.Policy.Burst, s.Policy.window())
		limit += fmt.Sprintf("%q;r=%d;t=%d", s.Policy.Name, s.Remaining, ceilSeconds(s.Reset))
		wait = max(wait, s.Wait)
	}
	if wait > 0 {
		retryAfter = fmt.Sprint(max(1, ceilSeconds(wait)))
	}
	return policy, limit, retryAfter
}
