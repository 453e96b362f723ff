// Package mailauth judges where a received message comes from: SPF (RFC 7208) for the
// envelope sender, DKIM (RFC 6376) for its signatures, DMARC (RFC 7489) joining
// them to the From header's domain, and ARC (RFC 8617) for forwarders' chains; it writes the verdict as an Authentication-Results
// field (RFC 8601). It knows nothing of tenants or storage: the gateway calls it with
// the facts of one SMTP transaction and a resolver.
package mailauth

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// Resolver is the DNS the checks ask; *net.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Input is what one SMTP transaction tells about a message.
type Input struct {
	IP         net.IP
	Helo       string
	MailFrom   string // "" is the null sender
	FromDomain string // the RFC 5322 From header's domain, lower-case
	Raw        []byte // the message as received
}

// DKIMSig is one signature's outcome.
type DKIMSig struct {
	Domain string `json:"domain"`
	Result string `json:"result"` // pass, fail, neutral, temperror, permerror
}

// Verdict is the outcome of all checks. It holds domains and results only.
type Verdict struct {
	SPF       string    `json:"spf"`        // RFC 7208 result
	SPFDomain string    `json:"spf_domain"` // the MAIL FROM domain, or the HELO name for the null sender
	DKIM      []DKIMSig `json:"dkim,omitempty"`
	DMARC     string    `json:"dmarc"`  // pass, fail, none, temperror, permerror
	Policy    string    `json:"policy"` // the policy that applies on failure: none, quarantine, reject; "" without a record
	From      string    `json:"from_domain"`
	// Enforce is set when the DMARC result is fail and the domain's policy (after its
	// pct sampling, RFC 7489 6.6.4) asks receivers to reject.
	Enforce bool `json:"enforce"`
	// ARC is the ARC chain's result (RFC 8617): none, pass or fail. It is
	// informational: the DMARC result above does not change with it.
	ARC string `json:"arc,omitempty"`
	// ARCOldestPass is the oldest instance whose message signature still verifies
	// when that is not the first; 0 otherwise.
	ARCOldestPass int `json:"arc_oldest_pass,omitempty"`

	remoteIP string // the connecting host, for the arc result's smtp.remote-ip
}

// Check runs SPF, DKIM, DMARC and ARC. DNS failures become temperror results, never an
// error: the caller decides what a temperror means.
func Check(ctx context.Context, r Resolver, in Input) *Verdict {
	v := &Verdict{From: in.FromDomain}
	// SPF: the MAIL FROM identity, or the HELO identity for the null sender (RFC 7208 2.4).
	sender := in.MailFrom
	if sender == "" {
		sender = "postmaster@" + in.Helo
	}
	v.SPFDomain = domainOf(sender)
	res, _ := spf.CheckHostWithSender(in.IP, in.Helo, sender, spf.WithResolver(r), spf.WithContext(ctx))
	v.SPF = string(res)

	opts := &dkim.VerifyOptions{MaxVerifications: 5, LookupTXT: func(name string) ([]string, error) {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return r.LookupTXT(c, name)
	}}
	sigs, err := dkim.VerifyWithOptions(bytes.NewReader(in.Raw), opts)
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		sigs = nil
	}
	for _, s := range sigs {
		out := "pass"
		switch {
		case s.Err == nil:
		case dkim.IsTempFail(s.Err):
			out = "temperror"
		default:
			out = "fail"
		}
		v.DKIM = append(v.DKIM, DKIMSig{Domain: strings.ToLower(s.Domain), Result: out})
	}
	v.dmarc(ctx, r)
	v.ARC, v.ARCOldestPass = ARCChain(ctx, r, in.Raw)
	if in.IP != nil {
		v.remoteIP = in.IP.String()
	}
	return v
}

// dmarc looks the policy up at the From domain, else at its organisational domain
// (RFC 7489 6.6.3), and passes the message when SPF or a DKIM signature passed for an
// aligned domain (RFC 7489 3.1).
func (v *Verdict) dmarc(ctx context.Context, r Resolver) {
	if v.From == "" {
		v.DMARC = "permerror"
		return
	}
	org := orgDomain(v.From)
	lookup := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return r.LookupTXT(c, name)
	}}
	rec, err := dmarc.LookupWithOptions(v.From, lookup)
	sub := false
	if errors.Is(err, dmarc.ErrNoPolicy) && org != v.From {
		rec, err = dmarc.LookupWithOptions(org, lookup)
		sub = true
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		v.DMARC = "none"
		return
	case dmarc.IsTempFail(err):
		v.DMARC = "temperror"
		return
	case err != nil:
		v.DMARC = "permerror"
		return
	}
	v.Policy = string(rec.Policy)
	if sub && rec.SubdomainPolicy != "" {
		v.Policy = string(rec.SubdomainPolicy)
	}
	aligned := func(d string, mode dmarc.AlignmentMode) bool {
		if mode == dmarc.AlignmentStrict {
			return strings.EqualFold(d, v.From)
		}
		return strings.EqualFold(orgDomain(d), org)
	}
	pass := v.SPF == string(spf.Pass) && aligned(v.SPFDomain, rec.SPFAlignment)
	for _, s := range v.DKIM {
		pass = pass || (s.Result == "pass" && aligned(s.Domain, rec.DKIMAlignment))
	}
	if pass {
		v.DMARC = "pass"
		return
	}
	v.DMARC = "fail"
	pct := 100
	if rec.Percent != nil {
		pct = *rec.Percent
	}
	// RFC 7489 6.6.4: the policy applies to pct percent of failing mail.
	v.Enforce = v.Policy == string(dmarc.PolicyReject) && (pct >= 100 || rand.IntN(100) < pct) // #nosec G404 -- sampling, not a secret
}

// Header is the Authentication-Results field (RFC 8601) for this verdict, with
// authServID naming us, ready to prepend (CRLF-terminated).
func (v *Verdict) Header(authServID string) string {
	results := []authres.Result{&authres.SPFResult{Value: authres.ResultValue(v.SPF), From: v.SPFDomain}}
	if len(v.DKIM) == 0 {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, s := range v.DKIM {
		results = append(results, &authres.DKIMResult{Value: authres.ResultValue(s.Result), Domain: s.Domain})
	}
	results = append(results, &authres.DMARCResult{Value: authres.ResultValue(v.DMARC), From: v.From})
	if v.ARC != "" {
		params := map[string]string{}
		if v.remoteIP != "" {
			params["smtp.remote-ip"] = v.remoteIP
		}
		if v.ARCOldestPass > 0 {
			params["header.oldest-pass"] = strconv.Itoa(v.ARCOldestPass)
		}
		results = append(results, &authres.GenericResult{Method: "arc", Value: authres.ResultValue(v.ARC), Params: params})
	}
	return "Authentication-Results: " + authres.Format(authServID, results) + "\r\n"
}

// Pass reports whether DMARC passed.
func (v *Verdict) Pass() bool { return v.DMARC == "pass" }

func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}

// orgDomain is the organisational domain (RFC 7489 3.2): the public suffix plus one label.
func orgDomain(d string) string {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if o, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return o
	}
	return d
}
