package devnet

import (
	"encoding/hex"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// canonical lower-cases name and makes it fully qualified, because DNS
// names compare case-insensitively (RFC 4343 3).
func canonical(name string) string {
	return dns.CanonicalName(dns.Fqdn(strings.TrimSpace(name)))
}

func header(name string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: canonical(name), Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
}

// AddRR adds any record. The typed helpers below cover the usual cases;
// this one is for tests that need something unusual (CNAME, SRV, ...).
func (d *DNS) AddRR(rr dns.RR) {
	rr = dns.Copy(rr)
	rr.Header().Name = canonical(rr.Header().Name)
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.names[rr.Header().Name]
	if n == nil {
		n = &node{}
		d.names[rr.Header().Name] = n
	}
	n.rrs = append(n.rrs, rr)
}

// AddMX adds an MX record. A host of "." publishes a null MX (RFC 7505 3).
func (d *DNS) AddMX(domain, host string, pref uint16) {
	d.AddRR(&dns.MX{Hdr: header(domain, dns.TypeMX), Preference: pref, Mx: canonical(host)})
}

// AddZoneMX is the common case in one call: domain's mail goes to host at
// preference 10, and host has the given addresses.
func (d *DNS) AddZoneMX(domain, host string, ips ...net.IP) {
	d.AddMX(domain, host, 10)
	for _, ip := range ips {
		d.AddA(host, ip)
	}
}

// AddA adds an A record for an IPv4 address or an AAAA record for IPv6.
func (d *DNS) AddA(host string, ip net.IP) {
	if v4 := ip.To4(); v4 != nil {
		d.AddRR(&dns.A{Hdr: header(host, dns.TypeA), A: v4})
		return
	}
	d.AddRR(&dns.AAAA{Hdr: header(host, dns.TypeAAAA), AAAA: ip.To16()})
}

// AddTXT adds one TXT record per txt argument. Values longer than 255 bytes
// are split into several character-strings, as DKIM keys must be
// (RFC 1035 3.3.14, RFC 6376 3.6.2.2); resolvers join them again.
func (d *DNS) AddTXT(name string, txt ...string) {
	for _, t := range txt {
		var parts []string
		for len(t) > 255 {
			parts = append(parts, escapeTXT(t[:255]))
			t = t[255:]
		}
		parts = append(parts, escapeTXT(t))
		d.AddRR(&dns.TXT{Hdr: header(name, dns.TypeTXT), Txt: parts})
	}
}

// escapeTXT protects backslashes, which the dns package would otherwise
// read as presentation-format escapes when packing.
func escapeTXT(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

// AddTLSA adds a DANE TLSA record (RFC 6698 2.1) with raw association data.
func (d *DNS) AddTLSA(name string, usage, selector, mtype uint8, data []byte) {
	d.AddRR(&dns.TLSA{
		Hdr:          header(name, dns.TypeTLSA),
		Usage:        usage,
		Selector:     selector,
		MatchingType: mtype,
		Certificate:  hex.EncodeToString(data),
	})
}

// SetRcode makes every query for name fail with rcode, e.g.
// dns.RcodeServerFailure to simulate a broken zone. dns.RcodeSuccess clears
// the override and answers from the records again.
func (d *DNS) SetRcode(name string, rcode int) {
	key := canonical(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.names[key]
	if n == nil {
		if rcode == dns.RcodeSuccess {
			return
		}
		n = &node{}
		d.names[key] = n
	}
	n.rcode, n.hasRcode = rcode, rcode != dns.RcodeSuccess
	if !n.hasRcode && len(n.rrs) == 0 {
		delete(d.names, key)
	}
}

// Remove deletes every record and any rcode override for name, which then
// answers NXDOMAIN unless names below it still exist.
func (d *DNS) Remove(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.names, canonical(name))
}
