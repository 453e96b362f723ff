package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tenant/people"
)

// clock is the people service's time, moved by the test (codes, timeouts).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a whole server (not running its workers: nothing is delivered, so messages
// stay revocable) behind a loopback HTTP server.
type env struct {
	t     *testing.T
	srv   *server.Server
	base  string
	clock *clock
}

// newEnv starts the server; opts adjust its configuration before it starts (and a
// dashboard URL set there becomes the base the test browses).
func newEnv(t *testing.T, dbURL string, opts ...func(cfg *config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = dbURL
	cfg.Hostname = "sealpost.test"
	cfg.MasterKeyFile = cfg.DataDir + "/master.key"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Listen = ln.Addr().String()
	cfg.Secure.PortalURL = "http://" + ln.Addr().String()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(seal.GenerateMasterKey())
	srv, err := server.New(context.Background(), &cfg, server.Options{Logger: slog.New(slog.DiscardHandler), Keyring: ring, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.DB.Close() })
	c := &clock{t: time.Now()}
	srv.People.Now = c.now
	base := hs.URL
	if cfg.Dashboard.URL != "" {
		base = cfg.Dashboard.URL
	}
	return &env{t: t, srv: srv, base: base, clock: c}
}

// addTenant makes a tenant with a verified domain and an admin key.
func (e *env) addTenant(name, domain string) (string, string) {
	e.t.Helper()
	ctx := context.Background()
	tn, err := e.srv.Tenants.Create(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.srv.Tenants.AddDomain(ctx, tn.ID, domain, true); err != nil {
		e.t.Fatal(err)
	}
	secret, _, err := e.srv.Tenants.CreateKey(ctx, tn.ID, tenant.KeyOptions{Name: "setup", Scopes: []string{tenant.ScopeAdmin}})
	if err != nil {
		e.t.Fatal(err)
	}
	return tn.ID, secret
}

// api calls the REST API.
func (e *env) api(method, path, key string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// invite makes a person and returns their invitation link.
func (e *env) invite(tenantID, email, role string) string {
	e.t.Helper()
	link, _, err := e.srv.People.Invite(context.Background(), people.Actor{Principal: "cli"}, tenantID, email, "", role, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return link
}

// code is the TOTP code for secret a step after the last one used.
func (e *env) code(secret string) string {
	e.clock.add(30 * time.Second)
	c, err := people.TOTPCode(secret, e.clock.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// watch records what the browser sees beyond the page: log entries (CSP violations
// land there) and every request, so a test can prove nothing left the server.
type watch struct {
	mu       sync.Mutex
	logs     []string
	requests []string
	// allow lists other hosts the test expects the browser to visit (an
	// identity provider's sign-in page).
	allow []string
}

func watchBrowser(t *testing.T, b *browsertest.Browser) *watch {
	w := &watch{}
	err := chromedp.Listen(b.Ctx(), func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			// A refusal the test asks for (401, 403, 404, 422, 429) is logged as a
			// failed load; the test checks those statuses itself.
			if strings.HasPrefix(ev.Entry.Text, "Failed to load resource: the server responded with a status of 4") && ev.Entry.Source == log.EntrySourceNetwork {
				return
			}
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				w.logs = append(w.logs, string(ev.Entry.Source)+": "+ev.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			w.requests = append(w.requests, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Ctx(), log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Ctx(), network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// check fails the test for any console message, log error (CSP violations included)
// or request to anywhere but base, seen since the last check.
func (w *watch) check(t *testing.T, b *browsertest.Browser, base, page string) {
	t.Helper()
	w.mu.Lock()
	logs, reqs := w.logs, w.requests
	w.logs, w.requests = nil, nil
	w.mu.Unlock()
	for _, l := range logs {
		t.Errorf("%s: browser log: %s", page, l)
	}
	u, _ := url.Parse(base)
	for _, r := range reqs {
		ru, err := url.Parse(r)
		if err != nil || (ru.Host != u.Host && ru.Scheme != "data" && !slices.Contains(w.allow, ru.Host)) {
			t.Errorf("%s: a request left the server: %s", page, r)
		}
	}
	for _, c := range b.ConsoleMessages() {
		t.Errorf("%s: console: %s", page, c)
	}
}

// shots is where screenshots go: $SEALPOST_SCREENSHOTS (docs/screenshots for the
// README); "" takes none.
func shots(*testing.T) string { return os.Getenv("SEALPOST_SCREENSHOTS") }

// shot captures the page at a desktop width when screenshots were asked for.
func shot(t *testing.T, b *browsertest.Browser, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	b.ScreenshotAt(filepath.Join(dir, "dashboard-"+name+".png"), 1280)
}

// form posts a form as a program would, with the cookie of a browser session.
func (e *env) form(cookie, path string, v url.Values) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "__Host-sealpost="+cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
