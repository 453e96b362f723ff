package delivery

import (
	"context"
	"strings"

	"github.com/sealpost/sealpost/internal/tlssec"
)

// This file decides what transport security each MX host demands, from
// DANE (RFC 7672) and MTA-STS (RFC 8461), and checks sessions against it.
// A host whose demands a session does not meet gets a temporary failure
// before MAIL is sent: the message waits rather than travel unprotected.

// domainPolicy records on targets what the recipient domain as a whole
// demands: whether DANE may apply to its MX hosts, and its MTA-STS policy.
// The smart host and address literals are exempt; they are not MX
// delivery.
func (c *Client) domainPolicy(ctx context.Context, domain string, targets []target) *Error {
	if len(targets) == 0 || targets[0].smart || strings.HasPrefix(domain, "[") {
		return nil
	}
	if d := c.cfg.DNSSEC; d != nil {
		var secure bool
		var err error
		if targets[0].implicit {
			_, secure, err = d.LookupAddrSecure(ctx, domain)
		} else {
			_, secure, err = d.LookupMXSecure(ctx, domain)
		}
		if err != nil {
			// RFC 7672 2.1.1: a failed lookup (including bogus data) defers;
			// reading it as "insecure" would let an attacker disable DANE.
			return &Error{Temporary: true, Stage: StageDNS, Enhanced: "4.4.3", Message: domain + ": DNSSEC lookup failed", Err: err}
		}
		// RFC 7672 2.2.1: DANE applies only to MX hosts from a secure MX
		// RRset, or for an implicit MX a secure address RRset.
		for i := range targets {
			targets[i].secure = secure
		}
	}
	if s := c.cfg.STS; s != nil {
		pol, err := s.Policy(ctx, domain)
		if err != nil {
			// RFC 8461 5: without a valid policy, known or cached, the
			// domain is treated as having none.
			c.log.Info("no MTA-STS policy", "rcpt_domain", domain, "reason", oneLine(err.Error()))
		}
		if pol != nil && (pol.Mode == tlssec.ModeEnforce || pol.Mode == tlssec.ModeTesting) {
			for i := range targets {
				targets[i].sts = pol
			}
		}
	}
	return nil
}

// hostPolicy completes t's demands with its TLSA records and its standing
// under the MTA-STS policy. An error means t must not be tried now; the
// string is what an MTA-STS testing policy would have refused.
func (c *Client) hostPolicy(ctx context.Context, t *target) (*Error, string) {
	if c.cfg.DNSSEC != nil && t.secure {
		if e := c.lookupDANE(ctx, t); e != nil {
			return e, ""
		}
	}
	if t.sts == nil {
		return nil, ""
	}
	if len(t.dane) > 0 {
		t.sts = nil // RFC 8461 2: DANE takes precedence over MTA-STS
		return nil, ""
	}
	if !t.sts.Matches(t.host) {
		const why = "MX host is not listed in the MTA-STS policy"
		if t.sts.Mode == tlssec.ModeEnforce { // RFC 8461 4.1: such hosts are not used
			return &Error{Temporary: true, Stage: StageConnect, MX: t.host, Enhanced: "4.7.5", Message: why}, ""
		}
		return nil, "MTA-STS testing: " + why
	}
	return nil, ""
}

// lookupDANE fetches t's TLSA records. Failures defer the host
// (RFC 7672 2.1.1); records that are absent or not authenticated leave
// DANE off (RFC 7672 2.2).
func (c *Client) lookupDANE(ctx context.Context, t *target) *Error {
	fail := func(what string, err error) *Error {
		return &Error{Temporary: true, Stage: StageDNS, MX: t.host, Enhanced: "4.4.3", Message: t.host + ": " + what + " failed", Err: err}
	}
	// RFC 7672 2.2.2: TLSA records are sought only for hosts whose
	// addresses are secure.
	_, addrSecure, err := c.cfg.DNSSEC.LookupAddrSecure(ctx, t.host)
	if err != nil {
		return fail("DNSSEC address lookup", err)
	}
	if !addrSecure {
		return nil
	}
	recs, authenticated, err := c.cfg.DNSSEC.LookupTLSA(ctx, t.host, t.port)
	if err != nil {
		return fail("TLSA lookup", err)
	}
	if !authenticated || len(recs) == 0 {
		return nil
	}
	t.dane = tlssec.UsableRecords(recs)
	// RFC 7672 2.2: secure TLSA records that are all unusable (3.1.3) still
	// say the server does TLS; encrypt, without authenticating by them.
	t.encrypt = len(t.dane) == 0
	return nil
}

// requiresTLS reports whether a session with t must be encrypted, so that
// a failed handshake must not be retried in plaintext.
func (t target) requiresTLS(env Envelope) bool {
	return env.RequireTLS || len(t.dane) > 0 || t.encrypt || (t.sts != nil && t.sts.Mode == tlssec.ModeEnforce)
}

// check reports whether the session cn meets t's demands and env's. The
// string is what an MTA-STS testing policy would have refused.
func (t target) check(env Envelope, cn *conn) (*Error, string) {
	info := cn.tls
	fail := func(msg string) *Error {
		if info == nil && cn.tlsFallback != "" {
			msg += " (" + cn.tlsFallback + ")"
		}
		return &Error{Temporary: true, Stage: StageTLS, MX: t.host, Enhanced: "4.7.5", Message: msg} // RFC 3463 X.7.5
	}
	switch {
	case len(t.dane) > 0 && info == nil: // RFC 7672 2.2: STARTTLS is mandatory
		return fail("DANE TLSA records require TLS but the server does not offer STARTTLS"), ""
	case len(t.dane) > 0 && !info.DANE:
		return fail("DANE authentication failed: " + strings.TrimPrefix(info.VerifyError, "DANE: ")), ""
	case len(t.dane) > 0:
		return nil, "" // DANE-verified, which satisfies RequireTLS too
	case t.encrypt && info == nil:
		return fail("TLSA records are published but the server does not offer STARTTLS"), ""
	}
	failure := ""
	if t.sts != nil {
		switch {
		case info == nil:
			failure = "server does not offer STARTTLS"
		case !info.webPKI:
			failure = "certificate did not verify: " + info.VerifyError
		}
		if failure != "" && t.sts.Mode == tlssec.ModeEnforce { // RFC 8461 5.1
			return fail("MTA-STS policy requires verified TLS: " + failure), ""
		}
		if failure != "" {
			failure = "MTA-STS testing: " + failure
		}
	}
	if env.RequireTLS {
		if e := checkRequireTLS(info, t.host); e != nil {
			return e, ""
		}
	}
	return nil, failure
}

// annotate records on a successful result the policies that applied.
func (t target) annotate(res *Result, failure string) {
	if res == nil {
		return
	}
	if res.TLS != nil && t.sts != nil {
		res.TLS.MTASTS = t.sts.Mode
	}
	if res.TLSPolicyFailure == "" {
		res.TLSPolicyFailure = failure
	}
}
