package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"code.dny.dev/ssrf"
)

// Timeout bounds one delivery attempt, connection to last byte of the answer.
const Timeout = 15 * time.Second

// ClientOptions configure the HTTP client that delivers webhooks.
type ClientOptions struct {
	// Allow opens these prefixes despite the deny list: the operator's on-premises
	// receivers. Nothing else private, loopback, link-local or special is ever dialled.
	Allow []netip.Prefix
	// Loopback opens 127.0.0.0/8 and ::1, for `sealpost dev` only.
	Loopback bool
	Timeout  time.Duration  // default Timeout
	Resolver *net.Resolver  // default the system's
	RootCAs  *x509.CertPool // default the system's
}

// NewClient returns a client that checks every address it actually dials — after DNS,
// so a name that resolves (or re-resolves) to a forbidden address fails — follows no
// redirect and uses no proxy from the environment.
func NewClient(o ClientOptions) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Resolver: o.Resolver, Control: newGuard(o).Safe}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = Timeout
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		// A redirect is a failed delivery: following it would let an endpoint point us
		// anywhere, and the event was not received where it was registered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// newGuard returns the check run on every address before it is dialled: the special
// ranges of both IANA registries (loopback, private, link-local with the metadata
// address, CGNAT, multicast, unspecified, 6to4, documentation…) and anything outside
// IPv6 global unicast (which takes in IPv4-mapped and NAT64 forms) are refused, unless
// the operator's allowlist names them.
func newGuard(o ClientOptions) *ssrf.Guardian {
	allow := append([]netip.Prefix(nil), o.Allow...)
	if o.Loopback {
		allow = append(allow, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	}
	var v4, v6 []netip.Prefix
	for _, p := range allow {
		if p.Addr().Is4() {
			v4 = append(v4, p.Masked())
		} else {
			v6 = append(v6, p.Masked())
		}
	}
	return ssrf.New(ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...))
}

// CheckURL says whether raw may be registered as an endpoint: an absolute https URL with
// a host, no user information and no fragment; http only for loopback when loopback is
// allowed (dev). The dialer still checks every address at delivery time.
func CheckURL(raw string, loopback bool) error {
	if len(raw) > 2048 {
		return errors.New("must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute https URL")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	host := u.Hostname()
	isLoop := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if a, err := netip.ParseAddr(host); err == nil {
		isLoop = a.Unmap().IsLoopback()
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback && isLoop:
	case u.Scheme == "http":
		return errors.New("must use https (plain http only to loopback in dev)")
	default:
		return errors.New("must be an https URL")
	}
	return nil
}

// Attempt is the result of one delivery attempt. Error never holds the URL (it may carry
// the receiver's own token) nor anything of the answer's body.
type Attempt struct {
	Status     int           // HTTP status, 0 when no answer came
	Latency    time.Duration // from the request to the end of the answer's headers
	Error      string
	RetryAfter time.Duration // from a 429 or 503 answer's Retry-After
}

// OK reports a 2xx answer: the only success. A 3xx is a failure: redirects are not followed.
func (a Attempt) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Gone reports 410: the receiver asks never to be called again.
func (a Attempt) Gone() bool { return a.Status == http.StatusGone }

// Post makes one delivery attempt of body to rawURL with headers.
func Post(ctx context.Context, c *http.Client, rawURL string, headers map[string]string, body []byte, now func() time.Time) Attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(string(body)))
	if err != nil {
		return Attempt{Error: "invalid endpoint URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sealpost-Webhooks/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := now()
	resp, err := c.Do(req)
	if err != nil {
		return Attempt{Latency: now().Sub(start), Error: describe(err)}
	}
	defer resp.Body.Close()
	a := Attempt{Status: resp.StatusCode, Latency: now().Sub(start)}
	// Drain a little so the connection can be reused; the answer's body is never kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		a.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now())
	}
	if !a.OK() {
		a.Error = fmt.Sprintf("answered %d", resp.StatusCode)
	}
	return a
}

// describe names a transport failure without the URL that net/http wraps around it.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, ssrf.ErrProhibitedIP), errors.Is(err, ssrf.ErrProhibitedNetwork), errors.Is(err, ssrf.ErrProhibitedPort):
		return "refused to connect: " + err.Error()
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS lookup failed: " + dnsErr.Err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "connection failed: " + opErr.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// retryAfter reads delay-seconds or an HTTP date (RFC 9110 10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
