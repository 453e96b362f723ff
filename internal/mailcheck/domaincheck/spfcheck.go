package domaincheck

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
)

// RFC 7208 4.6.4 limits.
const (
	spfLookupLimit = 10 // include, a, mx, ptr, exists, redirect
	spfVoidLimit   = 2  // lookups answering NXDOMAIN or no records
	spfMXLimit     = 10 // MX names looked up per mx mechanism
	spfMaxDepth    = 12 // guard against include/redirect loops
)

// spfNode is an SPF record with the records it includes and the addresses
// its a/mx mechanisms resolved to, fetched once and evaluated per IP.
type spfNode struct {
	domain   string
	rec      *spfRecord
	children map[int]*spfNode // include targets by term index
	addrs    map[int][]net.IP // a/mx addresses by term index
	redirect *spfNode
}

// spfWalker fetches the record tree, counting lookups as it goes.
type spfWalker struct {
	ctx      context.Context
	r        *net.Resolver
	env      macroEnv
	lookups  int
	voids    int
	problems []string
	warnings []string
}

// spfRecords returns the TXT records at domain that are SPF records.
func spfRecords(txt []string) []string {
	var out []string
	for _, t := range txt {
		if f := strings.Fields(t); len(f) > 0 && strings.EqualFold(f[0], "v=spf1") {
			out = append(out, t)
		}
	}
	return out
}

// load fetches and parses the SPF record of domain and, recursively, of
// everything it includes or redirects to.
func (w *spfWalker) load(domain string, path []string) *spfNode {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if slices.Contains(path, domain) || len(path) >= spfMaxDepth {
		w.problems = append(w.problems, fmt.Sprintf("include/redirect loop: %s -> %s", strings.Join(path, " -> "), domain))
		return nil
	}
	path = append(path, domain)
	txt, err := lookupTXT(w.ctx, w.r, domain)
	recs := spfRecords(txt)
	switch {
	case err != nil:
		w.problems = append(w.problems, fmt.Sprintf("TXT lookup for %s failed: %v", domain, err))
		return nil
	case len(recs) != 1:
		if len(txt) == 0 {
			w.voids++
		}
		w.problems = append(w.problems, fmt.Sprintf("%s has %d SPF records; it needs exactly one", domain, len(recs)))
		return nil
	}
	rec, err := parseSPF(recs[0])
	if err != nil {
		w.problems = append(w.problems, fmt.Sprintf("SPF record at %s: %v", domain, err))
		return nil
	}
	n := &spfNode{domain: domain, rec: rec, children: map[int]*spfNode{}, addrs: map[int][]net.IP{}}
	env := w.env
	env.domain = domain
	hasAll := false
	for i, t := range rec.terms {
		target := domain
		if t.arg != "" && t.name != "ip4" && t.name != "ip6" {
			target, _ = expandMacros(t.arg, env) // syntax already checked
		}
		switch t.name {
		case "all":
			hasAll = true
		case "include":
			w.lookups++
			n.children[i] = w.load(target, path)
		case "a":
			w.lookups++
			n.addrs[i] = w.addresses(target)
		case "mx":
			w.lookups++
			n.addrs[i] = w.mxAddresses(target)
		case "ptr":
			w.lookups++
			w.warnings = append(w.warnings, fmt.Sprintf("%s uses %q, which RFC 7208 5.5 says not to use", domain, t.source))
		case "exists":
			w.lookups++
		}
	}
	if rec.redirect != "" && !hasAll { // redirect is ignored when "all" is present (6.1)
		w.lookups++
		target, _ := expandMacros(rec.redirect, env)
		n.redirect = w.load(target, path)
	}
	return n
}

// addresses resolves host, counting a void lookup when it has none.
func (w *spfWalker) addresses(host string) []net.IP {
	addrs, err := w.r.LookupIPAddr(w.ctx, host)
	if err != nil && !isNotFound(err) {
		w.problems = append(w.problems, fmt.Sprintf("address lookup for %s failed: %v", host, err))
	}
	if len(addrs) == 0 {
		w.voids++
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips
}

func (w *spfWalker) mxAddresses(domain string) []net.IP {
	mxs, err := w.r.LookupMX(w.ctx, domain)
	if err != nil && !isNotFound(err) {
		w.problems = append(w.problems, fmt.Sprintf("MX lookup for %s failed: %v", domain, err))
	}
	if len(mxs) == 0 {
		w.voids++
	}
	if len(mxs) > spfMXLimit {
		w.problems = append(w.problems, fmt.Sprintf("%s has %d MX names; an SPF mx mechanism allows %d", domain, len(mxs), spfMXLimit))
		mxs = mxs[:spfMXLimit]
	}
	var ips []net.IP
	for _, mx := range mxs {
		if mx.Host != "." {
			ips = append(ips, w.addresses(strings.TrimSuffix(mx.Host, "."))...)
		}
	}
	return ips
}

// eval is check_host() (RFC 7208 4) over the fetched tree; it returns
// "pass", "fail", "softfail", "neutral" or "permerror".
func (w *spfWalker) eval(n *spfNode, ip net.IP) string {
	if n == nil {
		return "permerror"
	}
	env := w.env
	env.domain, env.ip = n.domain, ip
	for i, t := range n.rec.terms {
		match := false
		switch t.name {
		case "all":
			match = true
		case "ip4", "ip6":
			match = t.ipnet.Contains(ip)
		case "a", "mx":
			match = slices.ContainsFunc(n.addrs[i], func(a net.IP) bool { return inPrefix(a, ip, t.cidr4, t.cidr6) })
		case "include":
			switch w.eval(n.children[i], ip) {
			case "pass":
				match = true
			case "permerror":
				return "permerror"
			}
		case "exists":
			name, _ := expandMacros(t.arg, env)
			addrs, _ := w.r.LookupIP(w.ctx, "ip4", name)
			match = len(addrs) > 0
		}
		if match {
			return map[byte]string{'+': "pass", '-': "fail", '~': "softfail", '?': "neutral"}[t.qual]
		}
	}
	if n.rec.redirect != "" {
		return w.eval(n.redirect, ip)
	}
	return "neutral"
}

// inPrefix reports whether ip is within the /cidr4 or /cidr6 of addr.
func inPrefix(addr, ip net.IP, cidr4, cidr6 int) bool {
	bits, size := cidr4, 32
	if addr.To4() == nil {
		bits, size = cidr6, 128
	} else {
		addr = addr.To4()
	}
	if bits < 0 {
		bits = size
	}
	return (&net.IPNet{IP: addr.Mask(net.CIDRMask(bits, size)), Mask: net.CIDRMask(bits, size)}).Contains(ip)
}

// ipTerm is the mechanism that authorises exactly ip.
func ipTerm(ip net.IP) string {
	if ip.To4() != nil {
		return "ip4:" + ip.String()
	}
	return "ip6:" + ip.String()
}
