package delivery

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/sealpost/sealpost/internal/tlssec"
)

// target is one host to try, in order, with the transport security it
// demands (see policy.go).
type target struct {
	host     string       // name to verify TLS against and report as Result.MX
	port     int          // TCP port
	addrs    []netip.Addr // known addresses; nil means resolve host
	smart    bool         // a configured smart host rather than an MX
	implicit bool         // the domain itself, for want of MX records (RFC 5321 5.1)

	secure  bool              // the MX (or implicit MX address) RRset was DNSSEC-authenticated
	dane    []tlssec.TLSA     // usable authenticated TLSA records: DANE applies (RFC 7672)
	encrypt bool              // authenticated TLSA records, none usable: TLS without authentication
	sts     *tlssec.STSPolicy // the domain's MTA-STS policy, testing or enforce; nil: none
}

func (t target) key() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// recipientDomain extracts and normalises the domain of a recipient:
// lower-case, no trailing dot, IDNA A-labels for DNS (RFC 5890 2.3.2.1).
func recipientDomain(rcpt string) (string, bool) {
	at := strings.LastIndexByte(rcpt, '@')
	if at <= 0 || at == len(rcpt)-1 {
		return "", false
	}
	d := strings.TrimSuffix(rcpt[at+1:], ".")
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		return d, true // address literal, RFC 5321 4.1.3
	}
	ascii, err := idna.Lookup.ToASCII(d)
	if err != nil || ascii == "" {
		return "", false
	}
	return strings.ToLower(ascii), true
}

// route returns the hosts to try for domain, most preferred first.
func (c *Client) route(ctx context.Context, domain string) ([]target, *Error) {
	if c.cfg.SmartHost != "" {
		host, portText, err := net.SplitHostPort(c.cfg.SmartHost)
		port, perr := strconv.Atoi(portText)
		if err != nil || perr != nil {
			return nil, &Error{Temporary: true, Stage: StageConnect, Enhanced: "4.3.5", Message: "invalid smart host " + c.cfg.SmartHost}
		}
		if port < 1 || port > 65535 {
			return nil, &Error{Temporary: true, Stage: StageConnect, Enhanced: "4.3.5", Message: "invalid smart host port " + portText}
		}
		t := target{host: host, port: port, smart: true}
		if ip, err := netip.ParseAddr(host); err == nil {
			t.addrs = []netip.Addr{ip}
		}
		return []target{t}, nil
	}
	port := c.cfg.Port
	if port == 0 {
		port = 25
	}
	if port < 1 || port > 65535 {
		return nil, &Error{Temporary: true, Stage: StageConnect, Enhanced: "4.3.5", Message: "invalid destination port " + strconv.Itoa(port)}
	}
	if strings.HasPrefix(domain, "[") {
		lit := strings.TrimPrefix(strings.Trim(domain, "[]"), "IPv6:") // RFC 5321 4.1.3
		ip, err := netip.ParseAddr(lit)
		if err != nil {
			return nil, &Error{Stage: StageDNS, Enhanced: "5.1.2", Message: "invalid address literal " + domain}
		}
		return []target{{host: ip.String(), port: port, addrs: []netip.Addr{ip}}}, nil
	}

	// A rooted name stops the resolver from trying search domains, which
	// would turn a clean NXDOMAIN into whatever the last search name gave.
	// A partial answer with some malformed records comes with an error;
	// the good records are still worth trying.
	mxs, err := c.lookupMX(ctx, domain)
	if len(mxs) == 0 {
		var dnsErr *net.DNSError
		if err != nil && (!errors.As(err, &dnsErr) || !dnsErr.IsNotFound) {
			return nil, dnsError(domain, err, "")
		}
		// The Go resolver reports NXDOMAIN and "no MX records" alike, so
		// look for the implicit MX; if the domain has no address either it
		// cannot receive mail (RFC 5321 5.1).
		addrs, aerr := c.lookupHost(ctx, domain, "5.1.2") // RFC 3463 X.1.2: bad destination system
		if aerr != nil {
			return nil, aerr
		}
		return []target{{host: domain, port: port, addrs: addrs, implicit: true}}, nil
	}

	// RFC 7505 3: a lone MX of "." means the domain accepts no mail. A "."
	// mixed with real MXs is a misconfiguration; skip it and use the rest.
	var targets []target
	prefs := make(map[string]uint16)
	for _, mx := range mxs {
		host := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if host == "" {
			continue
		}
		if p, dup := prefs[host]; dup {
			prefs[host] = min(p, mx.Pref)
			continue
		}
		prefs[host] = mx.Pref
		targets = append(targets, target{host: host, port: port})
	}
	if len(targets) == 0 {
		return nil, &Error{Code: 556, Enhanced: "5.1.10", Stage: StageDNS, Message: domain + " publishes a null MX and accepts no mail"} // RFC 7505 4.2, RFC 7504
	}
	// RFC 5321 5.1: lowest preference first, equal preferences in random
	// order to spread load.
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	slices.SortStableFunc(targets, func(a, b target) int { return cmp.Compare(prefs[a.host], prefs[b.host]) })
	return targets, nil
}

// lookupHost resolves host to addresses. Not found is permanent, with the
// enhanced code notFound: there is nothing to connect to.
func (c *Client) lookupHost(ctx context.Context, host, notFound string) ([]netip.Addr, *Error) {
	ips, err := c.resolver.LookupNetIP(ctx, "ip", host+".")
	if err != nil {
		return nil, dnsError(host, err, notFound)
	}
	for i, ip := range ips {
		ips[i] = ip.Unmap()
	}
	return ips, nil
}

// dnsError classifies a resolver error: a name that does not exist is
// permanent, anything else (SERVFAIL, timeouts) temporary.
func dnsError(name string, err error, notFound string) *Error {
	var dnsErr *net.DNSError
	if notFound != "" && errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return &Error{Stage: StageDNS, Enhanced: notFound, Message: name + ": no such domain or no address", Err: err}
	}
	return &Error{Temporary: true, Stage: StageDNS, Enhanced: "4.4.3", Message: name + ": DNS lookup failed", Err: err}
}
