// Package config loads Sealpost's configuration: one TOML file, then SEALPOST_*
// environment overrides, then defaults, then validation with messages that say what to fix.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
)

// Config is the whole configuration. Every field can be set in the file or by an
// environment variable named SEALPOST_<SECTION>_<KEY> (upper case), e.g.
// SEALPOST_API_LISTEN or SEALPOST_DATABASE_URL.
type Config struct {
	DataDir       string `toml:"data_dir" help:"directory for the SQLite database and the master key file"`
	DatabaseURL   string `toml:"database_url" help:"sqlite:PATH or postgres://…; default sqlite:<data_dir>/sealpost.db"`
	Hostname      string `toml:"hostname" help:"this server's name, used in EHLO and Received headers"`
	MasterKey     string `toml:"master_key" help:"base64 master key (prefer master_key_file or SEALPOST_MASTER_KEY)"`
	MasterKeyFile string `toml:"master_key_file" help:"key file; default <data_dir>/master.key"`
	Roles         string `toml:"roles" help:"comma-separated roles this process runs: api, worker (default both)"`
	AuditKeyFile  string `toml:"audit_key_file" help:"Ed25519 key that signs audit checkpoints; default <data_dir>/audit.key, made on first start"`
	AuditEvery    string `toml:"audit_checkpoint_every" help:"how often the audit log head is signed into a checkpoint"`

	API      API      `toml:"api"`
	Message  Message  `toml:"message"`
	Delivery Delivery `toml:"delivery"`
	Secure   Secure   `toml:"secure"`
	Portal   Portal   `toml:"portal"`
	Webhooks Webhooks `toml:"webhooks"`
	Log      Log      `toml:"log"`
	// Archive: the sealed journal of mail in and out.
	Archive Archive `toml:"archive"`
	// Tracking: opens and clicks.
	Tracking Tracking `toml:"tracking"`
	// Access beyond API keys: OAuth issuer and request limits.
	Access Access `toml:"access"`
	// SMTP gateway: submission listeners and their defences.
	SMTP SMTP `toml:"smtp"`
	// Dashboard: its public URL, which passkeys are bound to.
	Dashboard Dashboard `toml:"dashboard"`
}

// Dashboard is the people's dashboard under /app.
type Dashboard struct {
	URL         string `toml:"url" help:"public URL of the dashboard (https://host[:port]): passkeys are bound to its origin and invitation links lead there; default the portal URL"`
	PasskeyRPID string `toml:"passkey_rp_id" help:"WebAuthn relying party ID: the URL's host name or a parent domain of it; default the host name. Changing it makes every registered passkey unusable"`
}

// Archive is the journal of every accepted message.
type Archive struct {
	// On by default: every accepted message is archived. The accepting transaction
	// seals the archive copy a piece at a time and the index job parses and indexes it
	// later (see docs/archive.md). false turns the journal off (the archive then holds
	// only what was journaled before).
	Journal bool `toml:"journal" help:"journal every accepted message into the sealed archive (search, holds, retention, export); on by default"`
}

// Tracking is where tracked links and the open pixel point.
type Tracking struct {
	BaseURL string `toml:"base_url" help:"base URL of tracked links and the open pixel (served under /t/ on the API listener); default the portal URL"`
}

// SMTP is the SMTP face: where it listens and how it defends itself. A listener with
// no address is off.
type SMTP struct {
	Submission      string `toml:"submission" help:"address for submission with STARTTLS before AUTH (RFC 6409, usually :587); empty: off"`
	Submissions     string `toml:"submissions" help:"address for submission over implicit TLS (RFC 8314, usually :465); empty: off"`
	Relay           string `toml:"relay" help:"address for the relay from a tenant's own mail servers (Google Workspace, Microsoft 365, Postfix): no AUTH, each message proven by DKIM under a registered selector or a pinned client certificate; empty: off"`
	Inbound         string `toml:"inbound" help:"address other servers deliver to (usually :25): the inbound gateway for protected domains, and bounces and complaints for bounce_domain; empty: off"`
	BounceDomain    string `toml:"bounce_domain" help:"domain of per-recipient return paths (bounces+<token>@domain); its MX must point at the inbound listener; empty: the message's From is the return path"`
	TLSCert         string `toml:"tls_cert" help:"PEM certificate for STARTTLS and implicit TLS; default api.tls_cert"`
	TLSKey          string `toml:"tls_key" help:"PEM private key; default api.tls_key"`
	MaxMessageBytes int64  `toml:"max_message_bytes" help:"largest message as transmitted (SIZE); default a third over message.max_bytes, for base64"`
	MaxRecipients   int    `toml:"max_recipients" help:"recipients per message"`
	Timeout         string `toml:"timeout" help:"a client silent this long in a command or in DATA is disconnected"`
	AuthMaxFailures int    `toml:"auth_max_failures" help:"failed AUTH attempts per client address or username within auth_window before both are locked"`
	AuthWindow      string `toml:"auth_window" help:"window in which AUTH failures are counted"`
	AuthLockout     string `toml:"auth_lockout" help:"how long a lockout lasts"`
	MaxConnections  int    `toml:"max_connections" help:"open connections per listener"`
	MaxClientConns  int    `toml:"max_client_connections" help:"open connections from one client address (IPv6: one /64)"`
}

// Webhooks is how events are pushed to tenants' endpoints.
type Webhooks struct {
	Allow       []string `toml:"allow" help:"CIDR prefixes of on-premises receivers that may be called despite being private (e.g. 10.20.0.0/16); nothing else private, loopback or link-local is ever dialled"`
	Concurrency int      `toml:"concurrency" help:"webhook deliveries in flight per process"`
	PerEndpoint int      `toml:"per_endpoint" help:"webhook deliveries in flight per endpoint"`
	// AllowLoopback is for development: sealpost dev and a receiver on this machine.
	AllowLoopback bool `toml:"allow_loopback" help:"development only: allow endpoints on loopback, over plain http too"`
}

// Secure is SecureLine: how recipients' capabilities are learnt and the portal hand-off.
type Secure struct {
	PortalURL      string `toml:"portal_url" help:"base URL of the secure portal used in notification links: an https address recipients can open; default the api.listen address (https with api.tls_cert), refused if not reachable"`
	PortalExpiry   string `toml:"portal_expiry" help:"how long a message handed to the portal stays readable"`
	ProbeTTL       string `toml:"probe_ttl" help:"how long a recipient domain's TLS capability is cached"`
	DNSSECResolver string `toml:"dnssec_resolver" help:"host:port of a DNSSEC-validating resolver (e.g. a local unbound); enables DANE; empty: no DANE"`
	MTASTS         bool   `toml:"mta_sts" help:"fetch and enforce recipient domains' MTA-STS policies"`
	WKD            bool   `toml:"wkd" help:"look up recipients' OpenPGP keys in their domain's Web Key Directory"`
}

// Portal is the secure message portal: how recipients prove their address, and the
// bounds every tenant's settings stay within.
type Portal struct {
	CodeTTL           string `toml:"code_ttl" help:"how long an emailed access code stays valid (at most 10m)"`
	MaxFailures       int    `toml:"max_failures" help:"wrong codes or passphrases for one message before it locks"`
	ClientMaxFailures int    `toml:"client_max_failures" help:"wrong codes or passphrases from one client address, across messages, before it locks"`
	Lockout           string `toml:"lockout" help:"how long a lock lasts"`
	SessionIdle       string `toml:"session_idle" help:"a portal session ends after this long without a request"`
	SessionMax        string `toml:"session_max" help:"a portal session ends this long after sign-in, active or not"`
	MaxExpiry         string `toml:"max_expiry" help:"the longest any message may stay readable in the portal; tenants choose within it"`
	SweepEvery        string `toml:"sweep_every" help:"how often expired portal copies are destroyed"`
	MaxUploadBytes    int64  `toml:"max_upload_bytes" help:"largest reply, attachments included"`
}

// API is the REST listener.
type API struct {
	Listen       string `toml:"listen" help:"address of the REST API"`
	TLSCert      string `toml:"tls_cert" help:"PEM certificate; with tls_key serves HTTPS"`
	TLSKey       string `toml:"tls_key" help:"PEM private key"`
	MaxBodyBytes int64  `toml:"max_body_bytes" help:"largest accepted request body"`
	// Slow and idle clients: every phase of a connection has a bound, and bodies and
	// responses must keep a minimum rate, so a client trickling bytes cannot hold a
	// connection (or its memory) for long while a large upload at a real rate can.
	ReadHeaderTimeout string `toml:"read_header_timeout" help:"time a client has to send a request's headers (and finish the TLS handshake)"`
	BodyTimeout       string `toml:"body_timeout" help:"time a request body may take, plus one second per min_rate bytes"`
	WriteTimeout      string `toml:"write_timeout" help:"time a response may take once the request is read, plus one second per min_rate bytes"`
	IdleTimeout       string `toml:"idle_timeout" help:"an idle keep-alive connection is closed after this long"`
	MinRate           int64  `toml:"min_rate" help:"bytes per second a request body or a response must average beyond its timeout"`
	MaxConnections    int    `toml:"max_connections" help:"open connections at most; lowered to fit the open-file limit minus reserved_fds"`
	MaxClientConns    int    `toml:"max_client_connections" help:"open connections at most from one client address (IPv6: one /64)"`
	ReservedFDs       int    `toml:"reserved_fds" help:"file descriptors kept free of connections, for the database, logs and outbound SMTP"`
	// Memory follows the bytes being worked on, so this caps the server's memory: a
	// request body or a delivery that would go past it waits, then (a request) gets 503.
	MaxInflightBytes int64  `toml:"max_inflight_bytes" help:"request bodies and messages under delivery held in memory at once, in bytes; peak memory stays within about twice this"`
	InflightWait     string `toml:"inflight_wait" help:"how long a request waits for room under max_inflight_bytes before a 503 with Retry-After"`
}

// Message bounds what one message may carry.
type Message struct {
	MaxBytes           int `toml:"max_bytes" help:"largest message: text, HTML and decoded attachments together"`
	MaxAttachmentBytes int `toml:"max_attachment_bytes" help:"largest single attachment, decoded"`
}

// Delivery is the outbound SMTP side and the queue.
type Delivery struct {
	Port              int      `toml:"port" help:"destination SMTP port for MX delivery (25; tests use others)"`
	DNSServer         string   `toml:"dns_server" help:"host:port of the DNS resolver to use; default the system's"`
	SmartHost         string   `toml:"smart_host" help:"host:port to relay all mail through instead of MX delivery"`
	SmartHostUser     string   `toml:"smart_host_user" help:"AUTH user for the smart host"`
	SmartHostPassword string   `toml:"smart_host_password" help:"AUTH password for the smart host"`
	SendingIPs        []string `toml:"sending_ips" help:"addresses this server sends from, checked against SPF by check-domain"`
	CAFile            string   `toml:"ca_file" help:"extra PEM roots for verifying receiving servers"`
	Concurrency       int      `toml:"concurrency" help:"deliveries in flight per process"`
	PerDomain         int      `toml:"per_domain" help:"deliveries in flight per destination domain"`
	Retry             []string `toml:"retry" help:"delays after each failed attempt, the last repeating"`
	Expire            string   `toml:"expire" help:"give up after this long (RFC 5321: 4-5 days)"`
	Lease             string   `toml:"lease" help:"a claimed delivery is retried after this long if its process died; must outlast one delivery"`
	DrainTimeout      string   `toml:"drain_timeout" help:"on shutdown, how long in-flight deliveries may finish"`
	RSAEngine         string   `toml:"rsa_engine" help:"what makes DKIM RSA signatures: auto (the system's OpenSSL, libcrypto.so.3, where this build can load it; else Go) or go"`
	// RFC 5321 2.4 lets a receiving server tell "Pat" from "pat"; almost none do.
	IgnoreLocalPartCase bool `toml:"ignore_local_part_case" help:"treat recipients whose local parts differ only in case (Pat@x, pat@x) as one, so they get one delivery"`
}

// Log is logging.
type Log struct {
	Level  string `toml:"level" help:"debug, info, warn or error"`
	Format string `toml:"format" help:"json or text"`
}

// Default is the configuration with no file and no environment.
func Default() Config {
	return Config{
		DataDir:    "./sealpost-data",
		Hostname:   hostname(),
		Roles:      "api,worker",
		AuditEvery: "1h",
		// 50 MiB messages, 40 MiB attachments (a scanned report); the JSON body is a third
		// larger for base64, so it gets 70 MiB. The in-flight cap admits three such
		// requests at once.
		API: API{Listen: "127.0.0.1:8080", MaxBodyBytes: 70 << 20,
			ReadHeaderTimeout: "10s", BodyTimeout: "20s", WriteTimeout: "60s", IdleTimeout: "60s", MinRate: 1024,
			MaxConnections: 4096, MaxClientConns: 128, ReservedFDs: 256, MaxInflightBytes: 210 << 20, InflightWait: "10s"},
		Message: Message{MaxBytes: 50 << 20, MaxAttachmentBytes: 40 << 20},
		Delivery: Delivery{Port: 25, Concurrency: 64, PerDomain: 16,
			Retry:  []string{"1m", "5m", "15m", "30m", "1h", "2h", "4h", "8h"},
			Expire: "5d", DrainTimeout: "20s", Lease: "10m", RSAEngine: "auto"},
		Secure: Secure{PortalExpiry: "30d", ProbeTTL: "1h", MTASTS: true},
		Portal: Portal{CodeTTL: "10m", MaxFailures: 5, ClientMaxFailures: 20, Lockout: "15m", SessionIdle: "15m", SessionMax: "12h",
			MaxExpiry: "90d", SweepEvery: "1m", MaxUploadBytes: 25 << 20},
		Webhooks: Webhooks{Allow: []string{}, Concurrency: 32, PerEndpoint: 4},
		Log:      Log{Level: "info", Format: "json"},
		Access:   DefaultAccess(),
		SMTP: SMTP{MaxRecipients: 50, Timeout: "5m", AuthMaxFailures: 10, AuthWindow: "15m", AuthLockout: "15m",
			MaxConnections: 1000, MaxClientConns: 50},
		Archive: Archive{Journal: true},
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// Load reads the file at path (if path is not empty), applies the environment, fills
// derived defaults and validates.
func Load(path string, environ []string) (*Config, error) {
	c := Default()
	// Every problem is collected — the file's, the environment's, the values' — so one
	// run tells the operator everything to fix.
	var errs []error
	if path != "" {
		fileErrs, err := decodeFile(path, &c)
		if err != nil {
			return nil, err
		}
		errs = append(errs, fileErrs...)
	}
	if err := applyEnv(&c, environ); err != nil {
		errs = append(errs, err)
	}
	c.fill()
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

func (c *Config) fill() {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "sealpost.db")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if c.AuditKeyFile == "" {
		c.AuditKeyFile = filepath.Join(c.DataDir, "audit.key")
	}
}

// Validate checks every setting and reports all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
		bad("api.listen %q: want host:port", c.API.Listen)
	}
	if (c.API.TLSCert == "") != (c.API.TLSKey == "") {
		bad("api.tls_cert and api.tls_key go together")
	}
	if c.API.MaxBodyBytes < 1<<10 {
		bad("api.max_body_bytes %d: too small", c.API.MaxBodyBytes)
	}
	c.validateLimits(bad)
	c.validateDashboard(bad)
	if c.Message.MaxBytes < 1<<10 {
		bad("message.max_bytes %d: too small", c.Message.MaxBytes)
	}
	if c.Message.MaxAttachmentBytes < 1 || c.Message.MaxAttachmentBytes > c.Message.MaxBytes {
		bad("message.max_attachment_bytes %d: want 1 up to message.max_bytes (%d)", c.Message.MaxAttachmentBytes, c.Message.MaxBytes)
	}
	d := c.Delivery
	if d.Port < 1 || d.Port > 65535 {
		bad("delivery.port %d: want 1-65535", d.Port)
	}
	for _, hp := range []struct{ name, v string }{{"delivery.dns_server", d.DNSServer}, {"delivery.smart_host", d.SmartHost}} {
		if hp.v != "" {
			if _, _, err := net.SplitHostPort(hp.v); err != nil {
				bad("%s %q: want host:port", hp.name, hp.v)
			}
		}
	}
	if d.Concurrency < 1 || d.PerDomain < 1 {
		bad("delivery.concurrency and delivery.per_domain must be at least 1")
	}
	if d.RSAEngine != "auto" && d.RSAEngine != "go" {
		bad("delivery.rsa_engine %q: want auto or go", d.RSAEngine)
	}
	if _, err := c.RetrySchedule(); err != nil {
		bad("delivery.retry: %v", err)
	}
	for _, dur := range []struct{ name, v string }{{"delivery.expire", d.Expire}, {"delivery.drain_timeout", d.DrainTimeout}, {"delivery.lease", d.Lease}, {"audit_checkpoint_every", c.AuditEvery}, {"api.inflight_wait", c.API.InflightWait},
		{"secure.portal_expiry", c.Secure.PortalExpiry}, {"secure.probe_ttl", c.Secure.ProbeTTL},
		{"portal.code_ttl", c.Portal.CodeTTL}, {"portal.lockout", c.Portal.Lockout}, {"portal.session_idle", c.Portal.SessionIdle},
		{"portal.session_max", c.Portal.SessionMax}, {"portal.max_expiry", c.Portal.MaxExpiry}, {"portal.sweep_every", c.Portal.SweepEvery}} {
		if _, err := duration.ParsePositive(dur.v); err != nil {
			bad("%s %q: want a duration such as 5d, 120h or 30s", dur.name, dur.v)
		}
	}
	c.validatePortal(bad)
	c.validateSMTP(bad)
	if _, err := c.WebhookAllow(); err != nil {
		bad("%v", err)
	}
	if c.Webhooks.Concurrency < 1 || c.Webhooks.PerEndpoint < 1 {
		bad("webhooks.concurrency and webhooks.per_endpoint must be at least 1")
	}
	for _, err := range c.Access.validate() {
		bad("%v", err)
	}
	for _, r := range strings.Split(c.Roles, ",") {
		switch strings.TrimSpace(r) {
		case "api", "worker", "smtp":
		default:
			bad("roles: unknown role %q (api, worker, smtp)", r)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format %q: want json or text", c.Log.Format)
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database_url: want sqlite:PATH or postgres://…")
	}
	return errors.Join(errs...)
}

// HasRole reports whether this process runs a role.
func (c *Config) HasRole(role string) bool {
	for _, r := range strings.Split(c.Roles, ",") {
		if strings.TrimSpace(r) == role {
			return true
		}
	}
	return false
}

// RetrySchedule parses delivery.retry.
func (c *Config) RetrySchedule() ([]time.Duration, error) {
	if len(c.Delivery.Retry) == 0 {
		return nil, errors.New("at least one delay")
	}
	out := make([]time.Duration, len(c.Delivery.Retry))
	for i, s := range c.Delivery.Retry {
		d, err := duration.ParsePositive(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a positive duration", s)
		}
		out[i] = d
	}
	return out, nil
}

// Duration parses a duration setting that Validate already checked.
func Duration(s string) time.Duration {
	d, _ := duration.Parse(s)
	return d
}

// applyEnv walks the struct and sets each field from SEALPOST_<PATH>.
func applyEnv(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SEALPOST_") {
			env[k] = v
		}
	}
	var errs []error
	walk(reflect.ValueOf(c).Elem(), "SEALPOST", func(name string, f reflect.Value) {
		v, ok := env[name]
		if !ok {
			return
		}
		delete(env, name)
		switch f.Kind() {
		case reflect.String:
			f.SetString(v)
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want a whole number", name, v))
				return
			}
			f.SetInt(n)
		case reflect.Slice:
			f.Set(reflect.ValueOf(strings.Split(v, ",")))
		case reflect.Bool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want true or false", name, v))
				return
			}
			f.SetBool(b)
		}
	})
	for k := range env {
		// Settings of the test suite, not of the server.
		if k != "SEALPOST_CONFIG" && !strings.HasPrefix(k, "SEALPOST_TEST_") && !strings.HasPrefix(k, "SEALPOST_REQUIRE_") && k != "SEALPOST_CHROMIUM" && k != "SEALPOST_SCREENSHOTS" {
			errs = append(errs, fmt.Errorf("unknown environment setting %s", k))
		}
	}
	return errors.Join(errs...)
}

func walk(v reflect.Value, prefix string, fn func(string, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name := prefix + "_" + strings.ToUpper(t.Field(i).Tag.Get("toml"))
		if t.Field(i).Type.Kind() == reflect.Struct {
			walk(v.Field(i), name, fn)
			continue
		}
		fn(name, v.Field(i))
	}
}

// validatePortal checks the portal's bounds against each other and against what
// access codes may be (valid at most 10 minutes).
func (c *Config) validatePortal(bad func(string, ...any)) {
	p := c.Portal
	if v, err := duration.Parse(p.CodeTTL); err == nil && v > 10*time.Minute {
		bad("portal.code_ttl %q: access codes may be valid for at most 10m", p.CodeTTL)
	}
	if p.MaxFailures < 1 || p.MaxFailures > 20 {
		bad("portal.max_failures %d: want 1-20", p.MaxFailures)
	}
	if p.ClientMaxFailures < p.MaxFailures {
		bad("portal.client_max_failures %d: want at least portal.max_failures (%d)", p.ClientMaxFailures, p.MaxFailures)
	}
	if p.MaxUploadBytes < 1<<10 {
		bad("portal.max_upload_bytes %d: too small", p.MaxUploadBytes)
	}
	def, err1 := duration.Parse(c.Secure.PortalExpiry)
	max, err2 := duration.Parse(p.MaxExpiry)
	if err1 == nil && err2 == nil && def > max {
		bad("secure.portal_expiry %s is longer than portal.max_expiry %s", c.Secure.PortalExpiry, p.MaxExpiry)
	}
	if u := c.Secure.PortalURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://127.0.0.1") && !strings.HasPrefix(u, "http://localhost") && !strings.HasPrefix(u, "http://[::1]") {
		bad("secure.portal_url %q: must be https:// (portal sessions use Secure cookies); plain http is accepted only on loopback", u)
	}
}

// WebhookAllow parses webhooks.allow.
func (c *Config) WebhookAllow() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, a := range c.Webhooks.Allow {
		p, err := netip.ParsePrefix(strings.TrimSpace(a))
		if err != nil {
			return nil, fmt.Errorf("webhooks.allow[%d] %q: want a CIDR prefix such as 10.20.0.0/16", i, a)
		}
		out = append(out, p)
	}
	return out, nil
}

// validateLimits checks the API listener's protections against slow and greedy
// clients.
func (c *Config) validateLimits(bad func(string, ...any)) {
	a := c.API
	for _, dur := range []struct{ name, v string }{{"api.read_header_timeout", a.ReadHeaderTimeout}, {"api.body_timeout", a.BodyTimeout},
		{"api.write_timeout", a.WriteTimeout}, {"api.idle_timeout", a.IdleTimeout}} {
		if v, err := time.ParseDuration(dur.v); err != nil || v <= 0 {
			bad("%s %q: want a duration such as 10s", dur.name, dur.v)
		}
	}
	if a.MinRate < 1 {
		bad("api.min_rate %d: want at least 1 byte per second", a.MinRate)
	}
	if a.MaxConnections < 1 {
		bad("api.max_connections %d: want at least 1", a.MaxConnections)
	}
	if a.MaxClientConns < 1 || a.MaxClientConns > a.MaxConnections {
		bad("api.max_client_connections %d: want 1 to api.max_connections (%d)", a.MaxClientConns, a.MaxConnections)
	}
	if a.ReservedFDs < 64 {
		bad("api.reserved_fds %d: want at least 64", a.ReservedFDs)
	}
	if a.MaxInflightBytes < a.MaxBodyBytes {
		bad("api.max_inflight_bytes %d: want at least api.max_body_bytes (%d), or no body of the largest size could be read", a.MaxInflightBytes, a.MaxBodyBytes)
	}
}

// validateSMTP checks the SMTP listeners and their limits.
func (c *Config) validateSMTP(bad func(string, ...any)) {
	m := c.SMTP
	for _, l := range []struct{ name, v string }{{"smtp.submission", m.Submission}, {"smtp.submissions", m.Submissions}, {"smtp.relay", m.Relay}, {"smtp.inbound", m.Inbound}} {
		if l.v != "" {
			if _, _, err := net.SplitHostPort(l.v); err != nil {
				bad("%s %q: want host:port", l.name, l.v)
			}
		}
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		bad("smtp.tls_cert and smtp.tls_key go together")
	}
	if m.MaxRecipients < 1 {
		bad("smtp.max_recipients %d: want at least 1", m.MaxRecipients)
	}
	if m.AuthMaxFailures < 1 {
		bad("smtp.auth_max_failures %d: want at least 1", m.AuthMaxFailures)
	}
	if m.MaxConnections < 1 || m.MaxClientConns < 1 || m.MaxClientConns > m.MaxConnections {
		bad("smtp.max_connections and smtp.max_client_connections: want at least 1, per client at most the total")
	}
	for _, dur := range []struct{ name, v string }{{"smtp.timeout", m.Timeout}, {"smtp.auth_window", m.AuthWindow}, {"smtp.auth_lockout", m.AuthLockout}} {
		if _, err := duration.ParsePositive(dur.v); err != nil {
			bad("%s %q: want a duration such as 5m", dur.name, dur.v)
		}
	}
}

// SMTPListening reports whether this process runs SMTP listeners: one is configured
// and the process runs the smtp role or the api role (a single process runs both).
func (c *Config) SMTPListening() bool {
	return (c.SMTP.Submission != "" || c.SMTP.Submissions != "" || c.SMTP.Relay != "" || c.SMTP.Inbound != "") && (c.HasRole("smtp") || c.HasRole("api"))
}
