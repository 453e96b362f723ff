// Package bench drives a real Sealpost server process through its API and measures
// acceptance and end-to-end delivery against a local receiving SMTP server.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/devnet"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/seal"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/server"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/webhook"
)

// Options describe one run.
type Options struct {
	Binary      string        // the sealpost binary to run as the server
	DatabaseURL string        // "" = a fresh SQLite file
	Messages    int           // N
	Clients     int           // C, closed loop
	Rate        float64       // messages/s, open loop when > 0
	Size        int           // body bytes
	TLS         bool          // receiver offers STARTTLS
	DKIM        string        // "rsa", "ed25519" or "none"
	Timeout     time.Duration // for delivery to finish
	CPUProfile  string        // if set, the server writes a CPU profile here
	MemProfile  string        // if set, the server writes an allocation profile here at exit
	Trace       string        // if set, the server writes an execution trace here
	Webhook     bool          // one endpoint subscribed to every event, on a loopback receiver
	ArchiveOff  bool          // the server journals nothing: to measure what the archive costs
	Latencies   string        // if set, each accepted request's start (ms into the run) and latency (ms), as CSV
	// Warmup is the start of an open-loop run left out of the steady-state
	// percentiles: a server just started opens its connections, fills its caches and
	// grows its heap then. The percentiles of the whole run are reported too.
	Warmup time.Duration
}

// Result is what a run measured.
type Result struct {
	Database      string  `json:"database"`
	Messages      int     `json:"messages"`
	Clients       int     `json:"clients"`
	Rate          float64 `json:"rate,omitempty"`
	SizeBytes     int     `json:"size_bytes"`
	TLS           bool    `json:"tls"`
	DKIM          string  `json:"dkim"`
	Accepted      int     `json:"accepted"`
	Errors        int     `json:"errors"`
	AcceptedPerS  float64 `json:"accepted_per_s"`
	Delivered     int     `json:"delivered"`
	DeliveredPerS float64 `json:"delivered_per_s"`
	P50ms         float64 `json:"accept_p50_ms"`
	P95ms         float64 `json:"accept_p95_ms"`
	P99ms         float64 `json:"accept_p99_ms"`
	// Steady*: an open-loop run's accepts sent after its warm-up (Options.Warmup).
	SteadyP50ms  float64 `json:"steady_accept_p50_ms,omitempty"`
	SteadyP99ms  float64 `json:"steady_accept_p99_ms,omitempty"`
	WarmupMs     float64 `json:"warmup_ms,omitempty"`
	ServerCPUs   float64 `json:"server_cpu_seconds"`
	ServerMaxRSS int64   `json:"server_peak_rss_kib"`
	// DatabaseCPUs is a local PostgreSQL's CPU over the run (every process of it, its
	// background workers included, and anything else it served meanwhile); 0 for
	// SQLite, which runs inside the server, and for a server elsewhere.
	DatabaseCPUs            float64 `json:"database_cpu_seconds,omitempty"`
	DatabaseCPUPerMessageMs float64 `json:"database_cpu_ms_per_message,omitempty"`
	// CPUPerMessageMs is the server's CPU time (for Postfix: all its processes and
	// the OpenDKIM milter) per delivered message.
	CPUPerMessageMs float64 `json:"cpu_ms_per_message"`
	// Connections is how many SMTP connections the receiver saw: fewer than
	// Delivered means connections were reused.
	Connections  int     `json:"receiver_connections"`
	Webhook      bool    `json:"webhook"`
	Webhooks     int     `json:"webhooks,omitempty"`       // deliveries the endpoint received
	WebhooksPerS float64 `json:"webhooks_per_s,omitempty"` // from the first send to the last webhook
	ArchiveOff   bool    `json:"archive_off,omitempty"`
}

// Run performs one benchmark run.
func Run(ctx context.Context, o Options, progress io.Writer) (*Result, error) {
	dir, err := os.MkdirTemp("", "sealpost-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dbURL := o.DatabaseURL
	dbName := "postgres"
	postmaster := 0 // a local PostgreSQL's main process, whose CPU the run reports too
	if dbURL == "" {
		dbURL, dbName = "sqlite:"+filepath.Join(dir, "sealpost.db"), "sqlite"
	} else {
		var drop func()
		if dbURL, drop, postmaster, err = freshSchema(ctx, dbURL); err != nil {
			return nil, err
		}
		defer drop()
	}

	ca, err := devnet.NewCA()
	if err != nil {
		return nil, err
	}
	ropts := devnet.ReceiverOptions{Hostname: "mx.rcpt.example", MaxStored: 16}
	if o.TLS {
		cert, err := ca.Issue("mx.rcpt.example")
		if err != nil {
			return nil, err
		}
		ropts.TLSCert = &cert
	}
	rcv, err := devnet.StartReceiver(ropts)
	if err != nil {
		return nil, err
	}
	defer rcv.Close()
	dns, err := devnet.StartDNS("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer dns.Close()
	dns.AddZoneMX("rcpt.example", "mx.rcpt.example", net.IPv4(127, 0, 0, 1))
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o600); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	master := seal.EncodeKey(seal.GenerateMasterKey())
	// Postfix is given --c deliveries in flight per destination (postfix.go), and
	// Sealpost the same, so a comparison measures equal concurrency: at its default
	// of 16 per domain every bench message, all for one domain, would queue behind
	// 16 connections while Postfix used 64. These come first so the operator's
	// environment can still set them.
	env := append([]string{"SEALPOST_DELIVERY_PER_DOMAIN=" + fmt.Sprint(o.Clients),
		"SEALPOST_DELIVERY_CONCURRENCY=" + fmt.Sprint(max(64, o.Clients))}, os.Environ()...)
	env = append(env,
		"SEALPOST_MASTER_KEY="+master, "SEALPOST_DATA_DIR="+dir, "SEALPOST_DATABASE_URL="+dbURL,
		"SEALPOST_API_LISTEN="+addr, "SEALPOST_DELIVERY_PORT="+fmt.Sprint(rcv.Port()),
		"SEALPOST_DELIVERY_DNS_SERVER="+dns.Addr(), "SEALPOST_DELIVERY_CA_FILE="+caFile,
		"SEALPOST_LOG_LEVEL=warn", "SEALPOST_HOSTNAME=sealpost.bench", "SEALPOST_WEBHOOKS_ALLOW_LOOPBACK=true",
		// Every bench client comes from one loopback address: the per-client cap
		// would refuse an open loop that has many requests outstanding.
		"SEALPOST_API_MAX_CLIENT_CONNECTIONS=4096",
		// The benchmark measures throughput, not the request limits.
		"SEALPOST_ACCESS_CREDENTIAL_RATE=0", "SEALPOST_ACCESS_TENANT_RATE=0")
	var hooks *hookReceiver
	if !o.ArchiveOff {
		env = append(env, "SEALPOST_ARCHIVE_JOURNAL=true")
	} else {
		// The journal is on by default: off must be said.
		env = append(env, "SEALPOST_ARCHIVE_JOURNAL=false")
		dbName += " (no archive)"
	}
	if o.Webhook {
		if hooks, err = startHookReceiver(); err != nil {
			return nil, err
		}
		defer hooks.close()
	}
	key, domain, err := setup(ctx, env, o.DKIM, !o.TLS, dns, hooks)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}

	args := []string{"serve"}
	if o.CPUProfile != "" {
		args = append(args, "--cpuprofile", o.CPUProfile)
	}
	if o.Trace != "" {
		args = append(args, "--trace", o.Trace)
	}
	if o.MemProfile != "" {
		args = append(args, "--memprofile", o.MemProfile)
	}
	cmd := exec.Command(o.Binary, args...) // #nosec G204 -- the operator's own --binary flag
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return nil, fmt.Errorf("server not ready: %v\n%s", err, logs.String())
	}

	r := &Result{Database: dbName, Messages: o.Messages, Clients: o.Clients, Rate: o.Rate, SizeBytes: o.Size, TLS: o.TLS, DKIM: o.DKIM, Webhook: o.Webhook, ArchiveOff: o.ArchiveOff}
	// Read once the server is ready, so the schema's creation is not counted.
	var dbCPU0 time.Duration
	if postmaster != 0 {
		dbCPU0 = treeCPU(postmaster)
	}
	body := []byte(fmt.Sprintf(`{"from":"Bench <b@%s>","to":"r@rcpt.example","subject":"bench","text":%q}`, domain, strings.Repeat("x", o.Size)))
	start := time.Now()
	samples, errs := drive(base, key, body, o)
	acceptDone := time.Since(start)
	if o.Latencies != "" {
		if err := writeLatencies(o.Latencies, samples); err != nil {
			return nil, err
		}
	}
	lat := make([]time.Duration, len(samples))
	for i, s := range samples {
		lat[i] = s.took
	}
	if o.Rate > 0 && o.Warmup > 0 {
		if steady := after(samples, o.Warmup); len(steady) > 0 {
			r.SteadyP50ms, r.SteadyP99ms, r.WarmupMs = pct(steady, 50), pct(steady, 99), float64(o.Warmup.Milliseconds())
		}
	}
	r.Accepted, r.Errors = len(lat), errs
	r.AcceptedPerS = float64(len(lat)) / acceptDone.Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.P50ms, r.P95ms, r.P99ms = pct(lat, 50), pct(lat, 95), pct(lat, 99)
	fmt.Fprintf(progress, "accepted %d in %v; waiting for delivery\n", len(lat), acceptDone.Round(time.Millisecond))

	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	werr := rcv.WaitCount(wctx, len(lat))
	r.Delivered, r.Connections = rcv.Count(), rcv.Connections()
	r.DeliveredPerS = float64(r.Delivered) / time.Since(start).Seconds()
	if hooks != nil {
		r.Webhooks, r.WebhooksPerS = hooks.settle(wctx, start)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.ServerCPUs = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		r.ServerMaxRSS = ru.Maxrss
	}
	r.CPUPerMessageMs = cpuPerMessage(r)
	if postmaster != 0 {
		// The server's backends end with its connections; their time reaches the
		// postmaster's reaped-children total once they have.
		time.Sleep(300 * time.Millisecond)
		r.DatabaseCPUs = (treeCPU(postmaster) - dbCPU0).Seconds()
		if r.Delivered > 0 {
			r.DatabaseCPUPerMessageMs = r.DatabaseCPUs * 1000 / float64(r.Delivered)
		}
	}
	if werr != nil {
		return r, fmt.Errorf("only %d of %d delivered within %v", r.Delivered, len(lat), o.Timeout)
	}
	return r, nil
}

// setup makes a tenant with a verified domain, an optional DKIM key published in the
// bench DNS, and a send key — through the same code the CLI uses.
func setup(ctx context.Context, environ []string, dkim string, plain bool, dns *devnet.DNS, hooks *hookReceiver) (key, domain string, err error) {
	cfg, err := config.Load("", environ)
	if err != nil {
		return "", "", err
	}
	ring, err := server.LoadKeyring(cfg)
	if err != nil {
		return "", "", err
	}
	db, err := server.OpenDB(ctx, cfg, nil)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	ts := tenant.New(db, ring)
	// Names unique per run, so runs can share one PostgreSQL database.
	name := "bench-" + strings.ToLower(tenant.NewID("b")[14:])
	domain = name + ".example"
	t, err := ts.Create(ctx, name)
	if err != nil {
		return "", "", err
	}
	if _, err := ts.AddDomain(ctx, t.ID, domain, true); err != nil {
		return "", "", err
	}
	if dkim != "none" {
		k, err := ts.GenerateDKIM(ctx, t.ID, domain, "bench", dkim)
		if err != nil {
			return "", "", err
		}
		dns.AddTXT(k.DNSName, k.DNSValue)
	}
	if plain {
		// Without STARTTLS the default policy would hand every copy to the portal and
		// the run would measure notices; the bench body has no PHI, so allow plain
		// delivery and measure the relay itself.
		sl := secureline.New(db, ts, secureline.Config{}, slog.New(slog.DiscardHandler))
		if _, err := sl.SetPolicy(ctx, t.ID, &policy.Document{AllowPlain: true, Rules: []policy.Rule{
			{Name: "bench", If: policy.Condition{NoFindings: true}, Then: policy.Action{Action: policy.ActionSecure, Methods: []policy.Method{policy.TLS, policy.None}}}}}, nil); err != nil {
			return "", "", err
		}
	}
	if hooks != nil {
		u := hooks.url
		wh := server.WebhookService(cfg, db, ts, nil, nil, server.Options{}, slog.New(slog.DiscardHandler))
		_, secret, fe, err := wh.Create(ctx, t.ID, &webhook.Spec{URL: &u}, nil)
		if err != nil || fe != nil {
			return "", "", fmt.Errorf("webhook: %v %v", err, fe)
		}
		hooks.setSecret(secret)
	}
	key, _, err = ts.CreateKey(ctx, t.ID, tenant.KeyOptions{Name: "bench", Scopes: []string{tenant.ScopeSend}})
	return key, domain, err
}

func waitReady(base string) error {
	var last error
	for range 200 {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

// sample is one accepted request: when it was sent, from the run's start, and how
// long its answer took.
type sample struct{ at, took time.Duration }

// after returns, sorted, the latencies of the requests sent warmup or later into the run.
func after(ss []sample, warmup time.Duration) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		if s.at >= warmup {
			out = append(out, s.took)
		}
	}
	slices.Sort(out)
	return out
}

// writeLatencies writes samples as CSV in the order they were sent, so a stall shows
// as a run of slow requests at one moment rather than as a tail of a distribution.
func writeLatencies(path string, ss []sample) error {
	sort.Slice(ss, func(i, j int) bool { return ss[i].at < ss[j].at })
	var b bytes.Buffer
	b.WriteString("start_ms,latency_ms\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "%.3f,%.3f\n", float64(s.at.Microseconds())/1000, float64(s.took.Microseconds())/1000)
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// drive sends the messages: C clients in a closed loop, or at a fixed rate (open loop,
// so a slow server shows up as latency rather than as a lower offered load).
func drive(base, key string, body []byte, o Options) ([]sample, int) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: 30 * time.Second}
	var mu sync.Mutex
	var lat []sample
	errs := 0
	begin := time.Now()
	one := func() {
		req, _ := http.NewRequest("POST", base+"/v1/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := hc.Do(req)
		d := time.Since(t0)
		ok := err == nil && resp.StatusCode == 202
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		mu.Lock()
		if ok {
			lat = append(lat, sample{at: t0.Sub(begin), took: d})
		} else {
			errs++
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	if o.Rate > 0 {
		interval := time.Duration(float64(time.Second) / o.Rate)
		next := time.Now()
		for range o.Messages {
			time.Sleep(time.Until(next))
			next = next.Add(interval)
			wg.Add(1)
			go func() { defer wg.Done(); one() }()
		}
		wg.Wait()
		return lat, errs
	}
	work := make(chan struct{}, o.Messages)
	for range o.Messages {
		work <- struct{}{}
	}
	close(work)
	for range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				one()
			}
		}()
	}
	wg.Wait()
	return lat, errs
}

func cpuPerMessage(r *Result) float64 {
	if r.Delivered == 0 {
		return 0
	}
	return r.ServerCPUs * 1000 / float64(r.Delivered)
}

func pct(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(sorted[i].Microseconds()) / 1000
}

// WriteTable prints results as a table.
func WriteTable(w io.Writer, rs []*Result) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "db\tN\tC\trate\tsize\tTLS\tDKIM\thook\taccepted/s\tdelivered/s\twebhooks/s\tp50 ms\tp95 ms\tp99 ms\tsteady p99\tcpu s\tcpu ms/msg\tdb cpu ms/msg\tconns\tpeak MiB\terrors\t")
	for _, r := range rs {
		rate := "closed"
		if r.Rate > 0 {
			rate = fmt.Sprintf("%.0f/s", r.Rate)
		}
		dbCPU := "-"
		if r.DatabaseCPUs > 0 {
			dbCPU = fmt.Sprintf("%.2f", r.DatabaseCPUPerMessageMs)
		}
		steady := "-"
		if r.WarmupMs > 0 {
			steady = fmt.Sprintf("%.2f", r.SteadyP99ms)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%v\t%s\t%v\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t%.1f\t%.2f\t%s\t%d\t%.0f\t%d\t\n", r.Database, r.Messages, r.Clients, rate, r.SizeBytes, r.TLS, r.DKIM, r.Webhook,
			r.AcceptedPerS, r.DeliveredPerS, r.WebhooksPerS, r.P50ms, r.P95ms, r.P99ms, steady, r.ServerCPUs, r.CPUPerMessageMs, dbCPU, r.Connections, float64(r.ServerMaxRSS)/1024, r.Errors)
	}
	return tw.Flush()
}

// WriteJSON prints results (or any summary of them) as JSON.
func WriteJSON(w io.Writer, rs any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}
