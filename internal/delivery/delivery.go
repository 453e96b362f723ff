// Package delivery is Sealpost's outbound SMTP client (RFC 5321): it finds
// the mail exchangers of a recipient's domain, or uses a configured smart
// host, and hands one message for one recipient to the first that takes
// it. TLS is used whenever offered and insisted on where the recipient
// domain's DANE records or MTA-STS policy demand it, connections are
// reused, and every failure is classified as temporary or permanent for
// the queue to act on.
package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/sealpost/sealpost/internal/tlssec"
)

// Config configures a Client. Zero values get the defaults noted.
type Config struct {
	Resolver *net.Resolver // nil: net.DefaultResolver
	Port     int           // destination port for MX delivery; 0: 25

	SmartHost                        string // "host:port"; when set, all mail goes there
	SmartHostUser, SmartHostPassword string // AUTH PLAIN, sent only over verified TLS
	SmartHostImplicitTLS             bool   // TLS from connect (RFC 8314) instead of STARTTLS

	HeloName string         // our name in EHLO; "": the OS hostname
	RootCAs  *x509.CertPool // nil: system roots

	// Recipient-side TLS policies, applied to MX delivery only (a smart
	// host is our own choice of relay). STS enforces MTA-STS (RFC 8461);
	// nil: no MTA-STS. DNSSEC enforces DANE (RFC 7672) through a validating
	// resolver; nil: no DANE.
	STS    *tlssec.STS
	DNSSEC *tlssec.DNSSEC

	// Timeouts; defaults follow RFC 5321 4.5.3.2: 5 minutes per command,
	// 10 minutes for the reply to the end of DATA.
	DialTimeout    time.Duration // 0: 30s
	CommandTimeout time.Duration // 0: 5m
	DataTimeout    time.Duration // 0: 10m

	MaxIdlePerHost     int           // idle connections kept per host:port; 0: 2, <0: none
	IdleTimeout        time.Duration // 0: 30s, well under the 5m servers wait (RFC 5321 4.5.3.2.7)
	MaxMessagesPerConn int           // 0: 100

	// MXCacheTTL keeps a domain's MX answer this long (0: ask every time). The
	// resolver does not tell record TTLs; a few seconds spare a burst of mail to one
	// domain a lookup per message and stay well inside any TTL in practice. Only
	// answers with records are kept: a failure or NXDOMAIN is asked again.
	MXCacheTTL time.Duration

	Logger *slog.Logger // nil: discard
}

// Envelope is one SMTP transaction's envelope. There is exactly one
// recipient, because per-recipient policy (TLS requirements, retries,
// bounces) is decided per recipient anyway.
type Envelope struct {
	From string // reverse-path; "" is the null sender (RFC 5321 4.5.5)
	To   string
	// RequireTLS makes delivery fail temporarily unless the session is
	// encrypted and the server authenticated: by a certificate that
	// verifies against the MX name, or by DANE.
	RequireTLS bool
	// BeforeData, if set, runs once the recipient is accepted and just before DATA,
	// the last moment at which the message certainly has not left. An error abandons
	// the transaction as a temporary failure without sending.
	BeforeData func() error
}

// Result describes a successful delivery.
type Result struct {
	MX     string   // host that accepted the message
	Addr   string   // its ip:port
	Reply  string   // final reply, e.g. "250 2.0.0 OK: queued"
	TLS    *TLSInfo // nil: sent in plaintext
	Reused bool     // the connection had carried an earlier message
	// TLSFallback is set when the server offered STARTTLS but TLS could
	// not be used and the message went in plaintext; it says why.
	TLSFallback string
	// TLSPolicyFailure says what an MTA-STS policy in testing mode would
	// have refused; the message was delivered anyway (RFC 8461 5), and the
	// failure is for TLS reporting (RFC 8460).
	TLSPolicyFailure string
}

// Client delivers messages. It is safe for concurrent use.
type Client struct {
	cfg      Config
	resolver *net.Resolver
	log      *slog.Logger
	pool     *pool
	sessions tls.ClientSessionCache // TLS sessions to resume, by server name
	mx       mxCache
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 5 * time.Minute
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = 10 * time.Minute
	}
	if cfg.MaxIdlePerHost == 0 {
		cfg.MaxIdlePerHost = 2
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.MaxMessagesPerConn <= 0 {
		cfg.MaxMessagesPerConn = 100
	}
	if cfg.HeloName == "" {
		cfg.HeloName, _ = os.Hostname()
		if cfg.HeloName == "" {
			cfg.HeloName = "localhost"
		}
	}
	c := &Client{cfg: cfg, resolver: cfg.Resolver, log: cfg.Logger}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "delivery")
	c.pool = newPool(cfg.MaxIdlePerHost, cfg.IdleTimeout)
	c.sessions = tls.NewLRUClientSessionCache(1024)
	return c
}

// Close shuts down idle connections with QUIT. Deliveries in progress are
// not interrupted; their connections are closed when they finish.
func (c *Client) Close() error {
	c.pool.closeAll()
	return nil
}

// Deliver sends msg to env.To. On failure the error is an *Error. msg is
// read at most once, and only after the recipient has been accepted.
func (c *Client) Deliver(ctx context.Context, env Envelope, msg io.Reader) (*Result, error) {
	res, e := c.deliver(ctx, env, msg)
	if e != nil {
		c.log.Warn("delivery failed", "rcpt_domain", domainOf(env.To), "stage", e.Stage,
			"mx", e.MX, "code", e.Code, "enhanced", e.Enhanced, "temporary", e.Temporary)
		return nil, e
	}
	attrs := []any{"rcpt_domain", domainOf(env.To), "mx", res.MX, "addr", res.Addr, "reused", res.Reused}
	if res.TLS != nil {
		attrs = append(attrs, "tls", res.TLS.Version, "verified", res.TLS.Verified, "dane", res.TLS.DANE, "mta_sts", res.TLS.MTASTS)
	} else {
		attrs = append(attrs, "tls", "none")
	}
	if res.TLSPolicyFailure != "" {
		attrs = append(attrs, "tls_policy_failure", res.TLSPolicyFailure)
	}
	c.log.Info("delivered", attrs...)
	return res, nil
}
