package domaincheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// mxHost is one MX target and the addresses it resolved to.
type mxHost struct {
	name  string // lower case, no trailing dot
	pref  uint16
	addrs []net.IP
}

// mxResult is the mx check together with the hosts the STARTTLS and
// MTA-STS checks go on to use.
type mxResult struct {
	check Check
	hosts []mxHost
}

// lookupMX runs the mx check: the domain must publish MX records (RFC 5321
// 5.1 would otherwise fall back to its A record), must not publish a null
// MX (RFC 7505), and every MX host must resolve.
func lookupMX(ctx context.Context, r *net.Resolver, domain string) mxResult {
	var f findings
	fixMX := fmt.Sprintf("publish an MX record for %s naming your mail server, e.g. %q", domain, domain+". MX 10 mx."+domain+".")
	records, err := r.LookupMX(ctx, domain)
	if err != nil && !isNotFound(err) {
		f.add(Fail, fmt.Sprintf("MX lookup for %s failed: %v", domain, err), "make sure the domain's name servers answer MX queries")
		return mxResult{check: f.result("mx", "")}
	}
	if len(records) == 0 {
		f.add(Fail, fmt.Sprintf("%s has no MX records", domain), fixMX)
		f.note("senders fall back to the domain's A/AAAA record (RFC 5321 5.1), which is rarely intended")
		return mxResult{check: f.result("mx", "")}
	}
	slices.SortStableFunc(records, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	for _, mx := range records {
		if mx.Host == "." {
			f.add(Fail, fmt.Sprintf("%s publishes a null MX: it declares that it accepts no mail (RFC 7505)", domain),
				"replace the null MX record (\".\") with "+strings.TrimPrefix(fixMX, "publish "))
			return mxResult{check: f.result("mx", "")}
		}
	}
	var hosts []mxHost
	for _, mx := range records {
		name := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if ip := net.ParseIP(name); ip != nil {
			f.add(Fail, fmt.Sprintf("MX %s is an IP address; MX records must name a host (RFC 7505 4)", name),
				fmt.Sprintf("replace the MX target %s with a host name that has A/AAAA records", name))
			continue
		}
		addrs, err := r.LookupIPAddr(ctx, name)
		if err != nil && !isNotFound(err) {
			f.add(Fail, fmt.Sprintf("address lookup for MX %s failed: %v", name, err), "make sure the name servers for "+name+" answer A/AAAA queries")
			continue
		}
		if len(addrs) == 0 {
			f.add(Fail, fmt.Sprintf("MX %s has no A or AAAA record", name), "publish an A or AAAA record for "+name)
			continue
		}
		h := mxHost{name: name, pref: mx.Pref}
		var shown []string
		for _, a := range addrs {
			h.addrs = append(h.addrs, a.IP)
			shown = append(shown, a.IP.String())
		}
		hosts = append(hosts, h)
		f.note("MX %d %s -> %s", mx.Pref, name, strings.Join(shown, ", "))
	}
	c := f.result("mx", fmt.Sprintf("%d MX host(s), all resolve", len(hosts)))
	return mxResult{check: c, hosts: hosts}
}

// mxNames lists the host names of hosts.
func mxNames(hosts []mxHost) []string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.name
	}
	return names
}

// isNotFound reports whether err means the name or record type does not
// exist, as opposed to a lookup that failed.
func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// lookupTXT returns the TXT records at name; a missing name or record set
// is not an error.
func lookupTXT(ctx context.Context, r *net.Resolver, name string) ([]string, error) {
	txt, err := r.LookupTXT(ctx, name)
	if isNotFound(err) {
		return nil, nil
	}
	return txt, err
}

// withVersion returns the records whose first tag, up to the first ";"
// and ignoring white space and case, is version (e.g. "v=DMARC1").
func withVersion(records []string, version string) []string {
	var out []string
	for _, r := range records {
		first, _, _ := strings.Cut(r, ";")
		if strings.EqualFold(strings.Join(strings.Fields(first), ""), version) {
			out = append(out, r)
		}
	}
	return out
}
