// Package anomaly watches each credential's requests for the two signs of a leaked
// credential — a volume far above its own baseline, and a network it has never used —
// and raises each as an access.anomaly event (with its webhooks) and an audit entry,
// once, and suspends the credential when its tenant chose so.
package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Config tunes detection.
type Config struct {
	// Window is the bucket requests are counted in (default one minute).
	Window time.Duration
	// Factor: a window with more than Factor times the baseline is anomalous.
	Factor float64
	// Floor: a window must also hold at least this many requests (a quiet credential
	// doubling from 1 to 2 is not news).
	Floor int
	// Warmup is how many windows of history a baseline needs before it judges.
	Warmup int
}

func (c *Config) defaults() {
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.Factor <= 0 {
		c.Factor = 10
	}
	if c.Floor <= 0 {
		c.Floor = 100
	}
	if c.Warmup <= 0 {
		c.Warmup = 30
	}
}

// Suspender suspends a credential (an API key or an OAuth client) of a tenant.
type Suspender func(ctx context.Context, tenantID, credentialID string) error

// Detector is one process's view. Volume is counted per process: with several API
// processes each judges its own share of the traffic (a balancer spreading requests
// evenly keeps the ratio to the baseline). Networks and raised anomalies live in the
// database, so an anomaly is raised once however many processes see it.
type Detector struct {
	db      *store.DB
	tenants *tenant.Service
	suspend Suspender
	cfg     Config
	log     *slog.Logger
	now     func() time.Time

	mu    sync.Mutex
	creds map[string]*credState
}

type credState struct {
	window   int64   // index of the current window
	count    int     // requests in it
	baseline float64 // moving average of past windows' counts
	windows  int     // past windows folded into the baseline
	networks map[string]bool
}

// New builds a detector.
func New(db *store.DB, tenants *tenant.Service, suspend Suspender, cfg Config, log *slog.Logger) *Detector {
	cfg.defaults()
	return &Detector{db: db, tenants: tenants, suspend: suspend, cfg: cfg, log: log, now: time.Now, creds: map[string]*credState{}}
}

// network is the client's /24 (IPv4) or /48 (IPv6).
func network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// Observe counts one authenticated request of a credential from a client address.
func (d *Detector) Observe(ctx context.Context, p *tenant.Principal, clientIP string) {
	now := d.now()
	idx := now.UnixNano() / int64(d.cfg.Window)
	net := network(clientIP)
	d.mu.Lock()
	st, ok := d.creds[p.KeyID]
	if !ok {
		if len(d.creds) > 100_000 {
			clear(d.creds)
		}
		st = &credState{window: idx}
		d.creds[p.KeyID] = st
	}
	for st.window < idx {
		// Fold the finished window (and any empty ones after it) into the baseline.
		st.baseline = ewma(st.baseline, float64(st.count), st.windows)
		st.windows++
		st.count = 0
		st.window++
		if idx-st.window > int64(d.cfg.Warmup) {
			st.window = idx // a long silence: the baseline decays no further
		}
	}
	st.count++
	volume := st.windows >= d.cfg.Warmup && st.count > d.cfg.Floor && float64(st.count) > d.cfg.Factor*st.baseline
	count, base := st.count, st.baseline
	newNet := net != "" && st.networks != nil && !st.networks[net]
	loaded := st.networks != nil
	d.mu.Unlock()

	if volume {
		hour := now.UTC().Format("2006-01-02T15")
		d.raise(ctx, p, "volume", hour, map[string]any{"requests": count, "baseline": round(base), "window_seconds": d.cfg.Window.Seconds()})
	}
	if net == "" || (loaded && !newNet) {
		return
	}
	d.seeNetwork(ctx, p, st, net, now)
}

// ewma weights the past evenly while it is short, then as a 1/20 moving average.
func ewma(avg, x float64, n int) float64 {
	w := 1 / float64(min(n+1, 20))
	return avg + w*(x-avg)
}

func round(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// seeNetwork records a network; a credential's first network is its baseline, any
// later new one is an anomaly.
func (d *Detector) seeNetwork(ctx context.Context, p *tenant.Principal, st *credState, net string, now time.Time) {
	d.mu.Lock()
	loaded := st.networks != nil
	d.mu.Unlock()
	if !loaded {
		known, err := d.db.CredentialNetworks(ctx, p.KeyID)
		if err != nil {
			d.log.Warn("anomaly: networks", "credential", p.KeyID, "err", err)
			return
		}
		m := map[string]bool{}
		for _, n := range known {
			m[n] = true
		}
		d.mu.Lock()
		st.networks = m
		d.mu.Unlock()
		if m[net] {
			return
		}
	}
	err := d.db.AddCredentialNetwork(ctx, p.KeyID, p.TenantID, net, now)
	d.mu.Lock()
	first := len(st.networks) == 0
	st.networks[net] = true
	d.mu.Unlock()
	if errors.Is(err, store.ErrConflict) {
		return // another process saw it first and raised what there was to raise
	}
	if err != nil {
		d.log.Warn("anomaly: record network", "credential", p.KeyID, "err", err)
		return
	}
	if !first {
		d.raise(ctx, p, "new_network", net, map[string]any{"network": net})
	}
}

// raise writes the event, its webhooks and the audit entry in one transaction, once per
// credential, kind and window; then suspends the credential if the tenant chose so.
func (d *Detector) raise(ctx context.Context, p *tenant.Principal, kind, window string, detail map[string]any) {
	// Recording must not depend on the client staying connected.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	keys, err := d.tenants.Keys(ctx, p.TenantID)
	if err != nil {
		d.log.Warn("anomaly: tenant keys", "tenant", p.TenantID, "err", err)
		return
	}
	suspend, err := d.db.SuspendOnAnomaly(ctx, p.TenantID)
	if err != nil {
		d.log.Warn("anomaly: settings", "tenant", p.TenantID, "err", err)
	}
	now := d.now()
	detail["credential_id"], detail["kind"], detail["suspended"] = p.KeyID, kind, suspend
	b, _ := json.Marshal(detail)
	a := &store.Anomaly{CredentialID: p.KeyID, TenantID: p.TenantID, Kind: kind, WindowKey: window, At: now,
		Event: &store.Event{TenantID: p.TenantID, Type: "access.anomaly", At: now, Data: keys.Data.Seal(b, "event/")},
		Audit: &store.AuditEntry{At: now, TenantID: p.TenantID, Principal: "system", Action: "access.anomaly", Object: p.KeyID, Result: "raised",
			Detail: kind + describe(detail, suspend)}}
	err = d.db.RaiseAnomaly(ctx, a)
	if errors.Is(err, store.ErrConflict) {
		return
	}
	if err != nil {
		d.log.Error("anomaly: raise", "credential", p.KeyID, "kind", kind, "err", err)
		return
	}
	d.log.Warn("access anomaly", "credential", p.KeyID, "tenant", p.TenantID, "kind", kind, "suspend", suspend)
	if suspend && d.suspend != nil {
		if err := d.suspend(ctx, p.TenantID, p.KeyID); err != nil && !errors.Is(err, store.ErrNotFound) {
			d.log.Error("anomaly: suspend", "credential", p.KeyID, "err", err)
		}
	}
}

func describe(detail map[string]any, suspend bool) string {
	var parts []string
	if n, ok := detail["network"].(string); ok {
		parts = append(parts, "network "+n)
	}
	if r, ok := detail["requests"].(int); ok {
		parts = append(parts, strconv.Itoa(r)+" requests in a window")
	}
	if suspend {
		parts = append(parts, "credential suspended")
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}
