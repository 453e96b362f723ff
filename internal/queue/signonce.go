package queue

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// signOnceTTL bounds how long a signature is shared: the copies of one message to
// one domain leave together, and a retry later gets a fresh signature (and t=).
const signOnceTTL = time.Minute

// signOnce lets the copies of one message that carry identical bytes share one DKIM
// signature: an RSA-2048 signature is about a millisecond of CPU, paid per copy
// otherwise. The key is the message, the signing key and a digest of the exact bytes
// signed, so a copy whose bytes differ (a per-recipient rewrite) is signed anew.
// Copies signed at the same moment wait for the first signature instead of making
// their own.
type signOnce struct {
	mu sync.Mutex
	m  map[signOnceKey]*signOnceEntry
}

type signOnceKey struct {
	message string // message id
	signer  string // DKIM key id, selector and domain
	digest  [sha256.Size]byte
}

type signOnceEntry struct {
	done chan struct{} // closed once sig and ok are set
	sig  string
	ok   bool
	at   time.Time
}

// get returns the signature for (message, signer, data), calling sign when no fresh
// one is known. A failed signature is not kept: the next copy tries again. ok is
// false when sign failed or ctx ended while waiting for another copy's signature.
func (s *signOnce) get(ctx context.Context, now time.Time, message, signer string, data []byte, sign func() (string, bool)) (string, bool) {
	k := signOnceKey{message: message, signer: signer, digest: sha256.Sum256(data)}
	s.mu.Lock()
	if e, found := s.m[k]; found && now.Sub(e.at) < signOnceTTL {
		s.mu.Unlock()
		select {
		case <-e.done:
			if e.ok {
				return e.sig, true
			}
			// The first copy's signature failed; sign this one alone.
			return sign()
		case <-ctx.Done():
			return "", false
		}
	}
	if s.m == nil {
		s.m = map[signOnceKey]*signOnceEntry{}
	}
	if len(s.m) >= 4096 {
		s.pruneLocked(now)
	}
	e := &signOnceEntry{done: make(chan struct{}), at: now}
	s.m[k] = e
	s.mu.Unlock()

	e.sig, e.ok = sign()
	close(e.done)
	if !e.ok {
		s.mu.Lock()
		if s.m[k] == e {
			delete(s.m, k)
		}
		s.mu.Unlock()
	}
	return e.sig, e.ok
}

// pruneLocked drops stale entries, or all finished ones when none is stale, so the
// map stays bounded under any load.
func (s *signOnce) pruneLocked(now time.Time) {
	for k, e := range s.m {
		if now.Sub(e.at) >= signOnceTTL {
			delete(s.m, k)
		}
	}
	if len(s.m) < 4096 {
		return
	}
	for k, e := range s.m {
		select {
		case <-e.done:
			delete(s.m, k)
		default:
		}
	}
}
