package tlssec

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// probeHost connects to host and records what its STARTTLS offers.
// secure says whether DANE may apply (RFC 7672 2.2.1); secErr is the
// failure to find that out, which for delivery would defer the host.
func (p *Prober) probeHost(ctx context.Context, host string, secure bool, secErr error) HostTLS {
	h := HostTLS{Host: host}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	port := p.Port
	if port == 0 {
		port = 25
	}

	var tlsa []TLSA
	switch {
	case secErr != nil:
		h.DANEError = secErr.Error()
	case secure:
		tlsa, h.DANEError = p.lookupDANE(ctx, host, port)
	}

	addrs, err := p.resolver().LookupNetIP(ctx, "ip", host+".")
	if err != nil {
		h.Error = "address lookup: " + err.Error()
		return h
	}
	var st *tls.ConnectionState
	for _, ip := range addrs {
		addr := netip.AddrPortFrom(ip.Unmap(), uint16(port)).String()
		var connected bool
		st, h.STARTTLS, connected, err = p.session(ctx, host, addr)
		if connected {
			h.Addr = addr
			break
		}
	}
	if err != nil {
		h.Error = err.Error()
	}
	if st == nil {
		return h
	}
	h.Version, h.Cipher = VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)
	if err := VerifyWebPKI(st.PeerCertificates, host, p.RootCAs); err != nil {
		h.CertError = err.Error()
	} else {
		h.CertVerified = true
	}
	if len(tlsa) > 0 {
		if err := Verify(tlsa, st.PeerCertificates, []string{host}, time.Now()); err != nil {
			h.DANE, h.DANEError = DANEMismatch, err.Error()
		} else {
			h.DANE = DANEValid
		}
	}
	return h
}

// lookupDANE returns the usable, authenticated TLSA records of host, after
// checking that its addresses are secure (RFC 7672 2.2.2). The string is
// the failure to look them up, if any.
func (p *Prober) lookupDANE(ctx context.Context, host string, port int) ([]TLSA, string) {
	_, addrSecure, err := p.DNSSEC.LookupAddrSecure(ctx, host)
	if err != nil {
		return nil, err.Error()
	}
	if !addrSecure {
		return nil, ""
	}
	recs, auth, err := p.DNSSEC.LookupTLSA(ctx, host, port)
	if err != nil {
		return nil, err.Error()
	}
	if !auth {
		return nil, "" // RFC 7672 2.2: insecure TLSA records are ignored
	}
	return UsableRecords(recs), ""
}

// session runs greeting, EHLO, STARTTLS and the handshake with addr.
// connected reports that the server greeted us, so that other addresses
// of the host need not be tried.
func (p *Prober) session(ctx context.Context, host, addr string) (st *tls.ConnectionState, starttls, connected bool, err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, false, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil { // RFC 5321 3.1
		return nil, false, false, fmt.Errorf("greeting: %w", err)
	}
	helo := p.HeloName
	if helo == "" {
		helo = "localhost"
	}
	ehlo, err := cmd(tp, 250, "EHLO "+helo)
	if err != nil {
		return nil, false, true, fmt.Errorf("EHLO: %w", err)
	}
	for _, line := range strings.Split(ehlo, "\n")[1:] { // RFC 5321 4.1.1.1
		if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "STARTTLS") {
			starttls = true
		}
	}
	if !starttls {
		_, _ = cmd(tp, 221, "QUIT")
		return nil, false, true, nil
	}
	if _, err := cmd(tp, 220, "STARTTLS"); err != nil { // RFC 3207 4
		return nil, true, true, fmt.Errorf("STARTTLS: %w", err)
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName: host,
		// Verification is done afterwards, to report WebPKI and DANE
		// separately rather than abort on the first failure. TLS 1.0 and
		// 1.1 are allowed only so that they can be named in the report.
		InsecureSkipVerify: true, // #nosec G402 -- verified afterwards, see above
		MinVersion:         tls.VersionTLS10,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, true, true, fmt.Errorf("TLS handshake: %w", err)
	}
	state := tc.ConnectionState()
	_, _ = cmd(textproto.NewConn(tc), 221, "QUIT")
	return &state, true, true, nil
}

// cmd sends one command and reads its reply.
func cmd(tp *textproto.Conn, expect int, line string) (string, error) {
	if err := tp.PrintfLine("%s", line); err != nil {
		return "", err
	}
	_, msg, err := tp.ReadResponse(expect)
	return msg, err
}

// VerifyWebPKI checks a presented chain against roots (nil: system roots) for host:
// what crypto/tls would check, for callers that record the result instead of failing
// the handshake.
func VerifyWebPKI(chain []*x509.Certificate, host string, roots *x509.CertPool) error {
	if len(chain) == 0 {
		return errors.New("server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// VersionName spells a TLS version as Received headers and TLS-RPT do ("TLSv1.3",
// not crypto/tls's "TLS 1.3"): the one spelling every part of Sealpost writes.
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1.0"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return "TLS(0x" + strconv.FormatUint(uint64(v), 16) + ")"
}
