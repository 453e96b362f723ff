package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/api"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// newRefusingProcEnv is newProcEnv with a receiver that answers 451 while refuse is
// set, so acknowledged messages stay queued until the test lets them through.
func newRefusingProcEnv(t *testing.T, dbURL string, refuse *atomic.Bool) *procEnv {
	t.Helper()
	return newProcEnvWith(t, dbURL, procOptions{retry: `["500ms", "1s"]`, respond: func(string, int) *smtp.SMTPError {
		if refuse.Load() {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "not now"}
		}
		return nil
	}})
}

// outageLog records every answer a client got, and which sends were acknowledged.
type outageLog struct {
	mu       sync.Mutex
	statuses map[int]int
	bad      []string // answers other than the allowed ones
	acked    map[int]bool
	next     atomic.Int64
}

func (o *outageLog) record(what string, resp *http.Response, err error, allowed ...int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.bad = append(o.bad, fmt.Sprintf("%s: %v", what, err))
		return 0
	}
	o.statuses[resp.StatusCode]++
	ok := false
	for _, a := range allowed {
		ok = ok || resp.StatusCode == a
	}
	switch {
	case !ok:
		body, _ := io.ReadAll(resp.Body)
		o.bad = append(o.bad, fmt.Sprintf("%s: %d %s", what, resp.StatusCode, body))
	case resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "":
		o.bad = append(o.bad, fmt.Sprintf("%s: 503 without Retry-After", what))
	}
	return resp.StatusCode
}

// send posts one numbered message; only 202 and 503 are acceptable answers.
func (o *outageLog) send(ctx context.Context, hc *http.Client, base, key string) {
	i := int(o.next.Add(1))
	body := fmt.Sprintf(`{"from":"a@clinic.example","to":"p%d@patient.example","subject":"m-%d","text":"message %d"}`, i%20, i, i)
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := hc.Do(req)
	if ctx.Err() != nil {
		return
	}
	if o.record("send", resp, err, 202, 503) == 202 {
		o.mu.Lock()
		o.acked[i] = true
		o.mu.Unlock()
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// everyRoute asks every API route, a portal page and /readyz once, and expects the
// database's absence to show as 503 with Retry-After (public documents excepted).
func (o *outageLog) everyRoute(t *testing.T, hc *http.Client, base, key string) {
	t.Helper()
	var wg sync.WaitGroup
	// At most 32 at once: more routes than the per-client connection cap (128) exist,
	// and a reset past the cap is not what this test asks about.
	sem := make(chan struct{}, 32)
	for _, rt := range api.Routes() {
		path := strings.NewReplacer("{id}", "msg_x", "{domain}", "clinic.example", "{type}", "pgp").Replace(rt.Path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var body io.Reader
			if rt.Method != "GET" && rt.Method != "DELETE" {
				body = strings.NewReader("{}")
			}
			req, _ := http.NewRequest(rt.Method, base+path, body)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := hc.Do(req)
			allowed := []int{503}
			if rt.Scope == "" {
				// Routes without a key: documents answer 200 without the database; the
				// OAuth endpoints and opening a session refuse this unsigned "{}" before
				// storage is asked (400, 401); those that need the database say 503.
				allowed = []int{200, 400, 401, 503}
			}
			o.record(rt.Method+" "+rt.Path, resp, err, allowed...)
			if resp != nil {
				if resp.StatusCode == 503 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
					o.mu.Lock()
					o.bad = append(o.bad, rt.Method+" "+rt.Path+": 503 without problem+json")
					o.mu.Unlock()
				}
				resp.Body.Close()
			}
		}()
	}
	for _, path := range []string{"/p/" + strings.Repeat("A", 43), "/readyz"} {
		resp, err := hc.Get(base + path)
		o.record("GET "+path, resp, err, 503)
		if resp != nil {
			resp.Body.Close()
		}
	}
	wg.Wait()
}

// TestDatabaseOutageAnswers503AndRecovers runs the server process through a database
// outage while a client keeps sending: every answer is a 202 or a 503 with
// Retry-After — on every route and the portal too — and once the database is back
// every acknowledged message is delivered, those acknowledged before the outage
// included.
func TestDatabaseOutageAnswers503AndRecovers(t *testing.T) {
	t.Parallel() // its own servers, databases, DNS and receiver; it mostly waits
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	type outage struct {
		start, end func()
		// allRoutes: every request needs the database once the key cache has
		// expired. Not so while SQLite is locked by another writer: reads still work.
		allRoutes bool
	}
	for _, engine := range []string{"postgres", "sqlite"} {
		t.Run(engine, func(t *testing.T) {
			var refuse atomic.Bool
			refuse.Store(true)
			var p *procEnv
			var o outage
			switch engine {
			case "postgres":
				proxy, url := storetest.ProxyURL(t, storetest.PostgresURL(t))
				p = newRefusingProcEnv(t, url, &refuse)
				o = outage{start: proxy.Cut, end: proxy.Restore, allRoutes: true}
			case "sqlite":
				url := storetest.SQLiteURL(t)
				p = newRefusingProcEnv(t, url, &refuse)
				var release func()
				o = outage{start: func() { release = storetest.LockSQLite(t, url) }, end: func() { release() }}
			}
			_, base := p.start("server")
			log := &outageLog{statuses: map[int]int{}, acked: map[int]bool{}}
			hc := &http.Client{Timeout: 30 * time.Second}
			for range 20 {
				log.send(context.Background(), hc, base, p.key)
			}
			before := len(log.acked)
			if before != 20 {
				t.Fatalf("only %d of 20 sends acknowledged before the outage: %v", before, log.bad)
			}

			o.start()
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						log.send(ctx, hc, base, p.key)
					}
				}()
			}
			if o.allRoutes {
				time.Sleep(6 * time.Second) // past the 5 s key cache: every request needs the database
				log.everyRoute(t, hc, base, p.key)
			} else {
				// Past SQLite's 10 s busy timeout, the writes queued behind the lock fail:
				// wait for the first 503 (longer when the machine is busy), 30 s at most.
				time.Sleep(10 * time.Second)
				for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					log.mu.Lock()
					n := log.statuses[503]
					log.mu.Unlock()
					if n > 0 {
						break
					}
				}
			}
			stop()
			wg.Wait()
			during := log.statuses[503]
			o.end()
			refuse.Store(false)
			for range 20 {
				log.send(context.Background(), hc, base, p.key)
			}
			log.mu.Lock()
			t.Logf("answers %v; %d acknowledged (%d before the outage)", log.statuses, len(log.acked), before)
			for _, b := range log.bad {
				t.Errorf("unexpected answer %s", b)
			}
			log.mu.Unlock()
			if during == 0 {
				t.Fatal("no 503 during the outage")
			}
			got := waitDelivered(t, p.rcv, &sender{acked: log.acked}, 60*time.Second)
			t.Logf("%d distinct messages delivered", len(got))
			if resp, err := hc.Get(base + "/readyz"); err != nil || resp.StatusCode != 200 {
				t.Errorf("not ready after the outage: %v %v", resp, err)
			}
		})
	}
}
