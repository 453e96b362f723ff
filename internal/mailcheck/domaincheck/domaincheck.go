// Package domaincheck inspects the public DNS and SMTP set-up of a mail
// domain the way a sending server sees it: MX, SPF, DKIM, DMARC, MTA-STS,
// TLS-RPT and STARTTLS on the MX hosts. Each check reports pass, warn or
// fail with a one-line fix an operator can act on.
package domaincheck

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Status is the outcome of one check.
type Status string

// The possible outcomes, from best to worst.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is the result of one named check.
type Check struct {
	Name    string   `json:"name"` // "mx", "spf", "dkim", "dmarc", "mta-sts", "tls-rpt", "starttls"
	Status  Status   `json:"status"`
	Summary string   `json:"summary"`
	Fix     string   `json:"fix,omitempty"` // one line; empty when there is nothing to fix
	Details []string `json:"details,omitempty"`
}

// DKIMExpect is a DKIM key we sign with and expect the domain to publish.
type DKIMExpect struct {
	Selector string
	DNSValue string // TXT value, e.g. "v=DKIM1; k=ed25519; p=..."
}

// Config says how to reach the domain and what it should authorise.
type Config struct {
	Resolver   *net.Resolver  // TXT/MX/A lookups; nil means net.DefaultResolver
	Port       int            // SMTP port probed on MX hosts; 0 means 25
	RootCAs    *x509.CertPool // nil means the system roots
	SendingIPs []net.IP       // our sending addresses, checked against SPF
	DKIM       []DKIMExpect   // our published keys for this domain
	// HTTPClient fetches the MTA-STS policy. nil means a client that does
	// not follow redirects, as RFC 8461 3.3 requires.
	HTTPClient *http.Client
	Timeout    time.Duration // per check; 0 means 30 seconds
	HeloName   string        // EHLO name for the STARTTLS probe; "" means "localhost"
}

// Run performs every check against domain and returns the results in the
// order mx, spf, dkim, dmarc, mta-sts, tls-rpt, starttls. The checks run
// concurrently; a failing check never stops the others.
func Run(ctx context.Context, domain string, cfg Config) []Check {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Port == 0 {
		cfg.Port = 25
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout:       cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	mxctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	mx := lookupMX(mxctx, cfg.Resolver, domain)
	cancel()

	checks := []func(context.Context) Check{
		func(context.Context) Check { return mx.check },
		func(ctx context.Context) Check { return checkSPF(ctx, domain, cfg) },
		func(ctx context.Context) Check { return checkDKIM(ctx, domain, cfg) },
		func(ctx context.Context) Check { return checkDMARC(ctx, domain, cfg) },
		func(ctx context.Context) Check { return checkMTASTS(ctx, domain, mx.hosts, cfg) },
		func(ctx context.Context) Check { return checkTLSRPT(ctx, domain, cfg) },
		func(ctx context.Context) Check { return checkSTARTTLS(ctx, mx.hosts, cfg) },
	}
	out := make([]Check, len(checks))
	var wg sync.WaitGroup
	for i, f := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			defer cancel()
			out[i] = f(cctx)
		})
	}
	wg.Wait()
	return out
}

// WriteTable prints checks as an aligned table, each non-empty fix and
// detail on its own line under the check it belongs to.
func WriteTable(w io.Writer, domain string, checks []Check) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Mail set-up of %s\n\nCHECK\tSTATUS\tSUMMARY\n", domain)
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, strings.ToUpper(string(c.Status)), oneLine(c.Summary))
		for _, d := range c.Details {
			fmt.Fprintf(tw, "\t\t- %s\n", oneLine(d))
		}
		if c.Fix != "" {
			fmt.Fprintf(tw, "\t\tfix: %s\n", oneLine(c.Fix))
		}
	}
	return tw.Flush()
}

// oneLine keeps DNS-supplied text from breaking the table layout.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// findings accumulates problems for one check. The worst problem found
// first sets the summary and fix; every problem is kept in the details.
type findings struct {
	status  Status
	summary string
	fix     string
	details []string
}

func rank(s Status) int {
	switch s {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

func (f *findings) add(s Status, summary, fix string) {
	if f.status == "" || rank(s) > rank(f.status) {
		f.status, f.summary, f.fix = s, summary, fix
	}
	if s != Pass {
		summary = string(s) + ": " + summary
	}
	f.details = append(f.details, summary)
}

func (f *findings) note(format string, args ...any) {
	f.details = append(f.details, fmt.Sprintf(format, args...))
}

// result returns the check, with passSummary when nothing went wrong.
func (f *findings) result(name, passSummary string) Check {
	if f.status == "" || f.status == Pass {
		return Check{Name: name, Status: Pass, Summary: passSummary, Details: f.details}
	}
	return Check{Name: name, Status: f.status, Summary: f.summary, Fix: f.fix, Details: f.details}
}
