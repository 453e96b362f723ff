package forms

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sealpost/sealpost/internal/seal"
)

// A page token is handed out with every rendering of a form and must come back with
// its submission. It is bound to the form by a MAC under the tenant's index key and
// carries when the page was served, which is what the time-to-fill check measures.
// Together with the Origin check at the face it is the CSRF defence: a page elsewhere
// cannot obtain one without fetching ours, and cannot post with our Origin.

const tokenMaxAge = 24 * time.Hour

// Token mints a page token for h's form at now.
func (h *Hosted) Token(now time.Time) string {
	var raw [20]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixMilli()))
	copy(raw[8:], seal.RandomBytes(12))
	p := base64.RawURLEncoding.EncodeToString(raw[:])
	return p + "." + base64.RawURLEncoding.EncodeToString(h.mac(p))
}

func (h *Hosted) mac(payload string) []byte {
	return h.Keys.Hash("form/page", h.Form.ID+"|"+payload)[:16]
}

// TokenVerdict is what a page token says about a submission.
type TokenVerdict int

// Verdicts.
const (
	TokenOK      TokenVerdict = iota
	TokenInvalid              // missing, forged, for another form, or older than a day
	TokenTooFast              // sent sooner after the page arrived than a person can fill it
)

// CheckToken checks a returned page token at now.
func (h *Hosted) CheckToken(tok string, now time.Time) TokenVerdict {
	p, m, ok := strings.Cut(tok, ".")
	if !ok {
		return TokenInvalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !hmac.Equal(mac, h.mac(p)) {
		return TokenInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || len(raw) != 20 {
		return TokenInvalid
	}
	// #nosec G115 -- a millisecond time we minted ourselves
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(raw[:8])))
	age := now.Sub(issued)
	switch {
	case age < -time.Minute || age > tokenMaxAge:
		return TokenInvalid
	case age < h.Def.MinFill():
		return TokenTooFast
	}
	return TokenOK
}

// Limiter limits submissions per client address, across every form of the process.
// A refused submission is shown its page again with everything typed kept, so a
// person caught by it loses nothing; a burst from one client is what it stops.
type Limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	clients map[string]*clientLimit
	swept   time.Time
}

type clientLimit struct {
	l    *rate.Limiter
	seen time.Time
}

// NewLimiter allows burst submissions at once per client, refilled one per interval.
func NewLimiter(interval time.Duration, burst int) *Limiter {
	return &Limiter{every: rate.Every(interval), burst: burst, clients: map[string]*clientLimit{}}
}

// Allow takes one submission from client's allowance at now; false: wait.
func (l *Limiter) Allow(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Forget clients whose allowance is full again, so the map stays small.
		for k, c := range l.clients {
			if c.l.TokensAt(now) >= float64(l.burst) {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c := l.clients[client]
	if c == nil {
		c = &clientLimit{l: rate.NewLimiter(l.every, l.burst)}
		l.clients[client] = c
	}
	c.seen = now
	return c.l.AllowN(now, 1)
}
