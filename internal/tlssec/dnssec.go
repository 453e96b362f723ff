package tlssec

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSSEC looks records up through a validating resolver and reports
// whether the resolver vouched for them. The resolver must be trusted and
// reached over a trusted path (normally a local unbound on loopback):
// only then may its AD bit stand in for validating the signatures
// ourselves (RFC 6698 4.1, RFC 7672 2.1).
type DNSSEC struct {
	Server  string        // ip:port of the validating resolver
	Timeout time.Duration // per query; 0: 5s
}

// ErrLookup marks a lookup that failed, as opposed to one that found no
// records: SERVFAIL (which is also how a validator reports bogus data),
// REFUSED, a timeout. RFC 7672 2.1.1: such a failure must defer delivery,
// never downgrade it.
var ErrLookup = errors.New("dns lookup failed")

// LookupTLSA returns the TLSA records of the SMTP service at host:port,
// i.e. of _port._tcp.host (RFC 6698 3, RFC 7672 2.2.3), and whether the
// answer was authenticated. A name or record that does not exist is not
// an error. Records whose data is not valid hex are dropped as unusable.
func (d *DNSSEC) LookupTLSA(ctx context.Context, host string, port int) (records []TLSA, authenticated bool, err error) {
	name := "_" + strconv.Itoa(port) + "._tcp." + strings.TrimSuffix(host, ".") + "."
	resp, err := d.exchange(ctx, name, dns.TypeTLSA)
	if err != nil {
		return nil, false, err
	}
	for _, rr := range resp.Answer {
		t, ok := rr.(*dns.TLSA)
		if !ok {
			continue // a CNAME on the way (RFC 7672 2.2.3); its target's records follow
		}
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			continue
		}
		records = append(records, TLSA{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: data})
	}
	return records, resp.AuthenticatedData, nil
}

// LookupMXSecure returns the MX records of domain and whether the RRset
// was authenticated. RFC 7672 2.2.1: DANE applies to the MX hosts only if
// the MX RRset is secure.
func (d *DNSSEC) LookupMXSecure(ctx context.Context, domain string) (mxs []*net.MX, authenticated bool, err error) {
	resp, err := d.exchange(ctx, strings.TrimSuffix(domain, ".")+".", dns.TypeMX)
	if err != nil {
		return nil, false, err
	}
	for _, rr := range resp.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, &net.MX{Host: mx.Mx, Pref: mx.Preference})
		}
	}
	return mxs, resp.AuthenticatedData, nil
}

// LookupAddrSecure returns the addresses of host and whether they were
// authenticated. It is secure when either the A or the AAAA answer is:
// RFC 7672 2.2.2 asks for TLSA records only of hosts with secure
// addresses, and many signed zones botch only one of the two denials.
// For an implicit MX this is also the lookup that must be secure for DANE
// to apply (RFC 7672 2.2.1).
func (d *DNSSEC) LookupAddrSecure(ctx context.Context, host string) (addrs []netip.Addr, authenticated bool, err error) {
	name := strings.TrimSuffix(host, ".") + "."
	var errs []error
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		resp, err := d.exchange(ctx, name, qtype)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found := false
		for _, rr := range resp.Answer {
			var ip net.IP
			switch rr := rr.(type) {
			case *dns.A:
				ip = rr.A.To4()
			case *dns.AAAA:
				ip = rr.AAAA.To16()
			}
			if a, ok := netip.AddrFromSlice(ip); ok {
				addrs, found = append(addrs, a), true
			}
		}
		authenticated = authenticated || (found && resp.AuthenticatedData)
	}
	if len(errs) == 2 || (len(errs) > 0 && len(addrs) == 0) {
		return nil, false, errors.Join(errs...)
	}
	return addrs, authenticated, nil
}

// exchange sends one query with the DO and AD bits set and returns a reply
// with NOERROR or NXDOMAIN; anything else is an error wrapping ErrLookup.
func (d *DNSSEC) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if d == nil || d.Server == "" {
		return nil, fmt.Errorf("%w: no validating resolver configured", ErrLookup)
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = true
	q.AuthenticatedData = true // RFC 6840 5.7: ask for the AD bit
	q.SetEdns0(4096, true)     // RFC 3225 3: DO, so the answer is DNSSEC-aware
	c := &dns.Client{Net: "udp", UDPSize: 4096}
	resp, _, err := c.ExchangeContext(ctx, q, d.Server)
	if err == nil && resp.Truncated {
		c.Net = "tcp" // RFC 7766 5: retry a truncated answer over TCP
		resp, _, err = c.ExchangeContext(ctx, q, d.Server)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", ErrLookup, dns.TypeToString[qtype], name, err)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
		return resp, nil
	case dns.RcodeNameError:
		// The name does not exist: no records. The AD bit still says
		// whether that denial was proven (RFC 4035 5.4).
		resp.Answer = nil
		return resp, nil
	}
	return nil, fmt.Errorf("%w: %s %s: %s", ErrLookup, dns.TypeToString[qtype], name, dns.RcodeToString[resp.Rcode])
}
