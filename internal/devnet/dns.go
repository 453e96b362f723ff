package devnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DNS is an authoritative DNS server on loopback answering from an
// in-memory zone that tests and `sealpost dev` edit while it runs. It serves
// UDP and TCP on the same port because resolvers retry over TCP when a UDP
// answer is truncated (RFC 7766 5).
type DNS struct {
	udp *dns.Server
	tcp *dns.Server

	mu     sync.RWMutex
	names  map[string]*node // keyed by canonical (lower-case, FQDN) owner name
	secure map[string]bool  // zones answered with the AD bit, see SetAuthenticated
}

// node holds everything known about one owner name.
type node struct {
	rrs      []dns.RR
	rcode    int
	hasRcode bool
}

// ttl is short because zone data changes during a run and nothing should
// cache it for long.
const ttl = 30

// StartDNS starts a server on addr, e.g. "127.0.0.1:0". With port 0 it
// picks a port free for both UDP and TCP.
func StartDNS(addr string) (*DNS, error) {
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, err
	}
	d := &DNS{names: make(map[string]*node)}
	d.udp = &dns.Server{PacketConn: pc, Handler: d}
	d.tcp = &dns.Server{Listener: ln, Handler: d}
	if err := startServer(d.udp); err != nil {
		pc.Close()
		ln.Close()
		return nil, err
	}
	if err := startServer(d.tcp); err != nil {
		d.udp.Shutdown()
		ln.Close()
		return nil, err
	}
	return d, nil
}

// listenBoth binds UDP first and then TCP on the same port. The kernel
// allocates the two independently, so a port free for UDP can be taken for
// TCP; retry a few times rather than fail.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("devnet: dns address: %w", err)
	}
	tries := 1
	if port == "0" {
		tries = 20
	}
	var lastErr error
	for range tries {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("devnet: dns listen udp: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("devnet: dns listen tcp: %w", lastErr)
}

// startServer runs srv in the background and waits until it is serving, so
// that a quick Close cannot race the start-up.
func startServer(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	go func() { failed <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-failed:
		return fmt.Errorf("devnet: dns serve: %w", err)
	case <-time.After(5 * time.Second):
		return errors.New("devnet: dns server did not start")
	}
}

// Addr returns the "host:port" the server answers on (UDP and TCP).
func (d *DNS) Addr() string { return d.udp.PacketConn.LocalAddr().String() }

// Close stops both listeners.
func (d *DNS) Close() error {
	return errors.Join(d.udp.Shutdown(), d.tcp.Shutdown())
}

// Resolver returns a resolver that sends every query to this server.
func (d *DNS) Resolver() *net.Resolver { return ResolverFor(d.Addr()) }

// ResolverFor returns a pure-Go resolver that sends every query to the DNS
// server at addr ("host:port") whatever the system configuration says. The
// Go resolver is forced because only it honours a custom Dial.
func ResolverFor(addr string) *net.Resolver {
	var dialer net.Dialer
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}
}

// ServeDNS answers one query from the zone data.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	// Authoritative and recursion-available together make the server look
	// like the full-service resolver it stands in for; without either flag
	// the Go resolver treats an empty answer as a lame referral.
	m.Authoritative = true
	m.RecursionAvailable = true
	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1: // RFC 9619: exactly one question
		m.Rcode = dns.RcodeFormatError
	default:
		d.answer(m, req.Question[0])
		d.markAuthenticated(m, req)
	}
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do()) // RFC 3225 3: the DO bit is copied into the response
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
	}
	if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
		m.Truncate(size) // sets TC so the client retries over TCP (RFC 1035 4.2.1)
	}
	_ = w.WriteMsg(m) // the client retries on loss; nothing useful to do here
}

// answer fills m for question q, following CNAMEs inside the zone.
func (d *DNS) answer(m *dns.Msg, q dns.Question) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	name := dns.CanonicalName(q.Name)
	for range 8 { // bound CNAME chains so a loop in the zone cannot hang us
		n := d.names[name]
		if n != nil && n.hasRcode {
			m.Rcode = n.rcode
			return
		}
		if n == nil {
			if !d.hasDescendant(name) {
				// Also after a CNAME: the rcode describes the last name in
				// the chain (RFC 6604 2.1).
				m.Rcode = dns.RcodeNameError
			}
			m.Ns = append(m.Ns, soa())
			return
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range n.rrs {
			switch {
			case rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY:
				// Copy: packing writes Rdlength into the header, which would
				// race between concurrent queries sharing the stored RR.
				m.Answer = append(m.Answer, dns.Copy(rr))
				found = true
			case rr.Header().Rrtype == dns.TypeCNAME:
				cname = rr.(*dns.CNAME)
			}
		}
		if cname == nil || q.Qtype == dns.TypeCNAME || q.Qtype == dns.TypeANY {
			if !found {
				m.Ns = append(m.Ns, soa()) // NODATA: RFC 2308 2.2
			}
			return
		}
		m.Answer = append(m.Answer, dns.Copy(cname))
		name = dns.CanonicalName(cname.Target)
	}
}

// hasDescendant reports whether name is an empty non-terminal, which exists
// and must answer NODATA rather than NXDOMAIN (RFC 8020 2).
func (d *DNS) hasDescendant(name string) bool {
	suffix := "." + name
	if name == "." {
		suffix = "."
	}
	for owner := range d.names {
		if owner != name && strings.HasSuffix(owner, suffix) {
			return true
		}
	}
	return false
}

// soa is the negative-caching record for the synthetic root zone this
// server is authoritative for (RFC 2308 3).
func soa() dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      "ns.devnet.invalid.",
		Mbox:    "hostmaster.devnet.invalid.",
		Serial:  1,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  ttl,
	}
}
