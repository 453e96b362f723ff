package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Canary is an HTTP server on 127.0.0.1:0 that records every request it
// gets: a stand-in for an attacker's server. A test renders untrusted content
// that points at the canary and then asserts Hits() is empty, proving that
// nothing (scripts, images, styles, frames) reached out.
type Canary struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

// StartCanary starts a Canary for t; it is closed at t.Cleanup.
func StartCanary(t testing.TB) *Canary {
	t.Helper()
	c := &Canary{}
	// httptest listens on 127.0.0.1:0 unless told otherwise.
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// serve records the request and answers with an empty 200, so a fetch or an
// image load completes quickly instead of retrying.
func (c *Canary) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.hits = append(c.hits, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	// Let cross-origin fetches succeed, so a page's script sees no error
	// and behaves as it would against a real attacker who opts in.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// URL is the canary's base URL, "http://127.0.0.1:port".
func (c *Canary) URL() string { return c.srv.URL }

// Hits lists "METHOD path" of the requests received so far, in order.
func (c *Canary) Hits() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.hits)
}
