package domaincheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// certWarnBefore is how close to expiry a certificate draws a warning.
const certWarnBefore = 14 * 24 * time.Hour

// probeResult is what one SMTP session with an MX address found out.
type probeResult struct {
	connected bool // TCP connection and 220 greeting
	starttls  bool // STARTTLS offered in the EHLO reply
	state     *tls.ConnectionState
	err       error
}

// checkSTARTTLS connects to every MX host on cfg.Port and checks that it
// offers STARTTLS with a certificate valid for its name.
func checkSTARTTLS(ctx context.Context, hosts []mxHost, cfg Config) Check {
	var f findings
	if len(hosts) == 0 {
		f.add(Fail, "no usable MX host to probe", "fix the mx check first")
	}
	for _, h := range hosts {
		probeHost(ctx, h, cfg, &f)
	}
	return f.result("starttls", fmt.Sprintf("%d MX host(s) offer STARTTLS with a valid certificate", len(hosts)))
}

// probeHost tries the addresses of h in turn until one answers, then
// judges the TLS session it negotiated.
func probeHost(ctx context.Context, h mxHost, cfg Config, f *findings) {
	var res probeResult
	var addr string
	for _, ip := range h.addrs {
		addr = net.JoinHostPort(ip.String(), strconv.Itoa(cfg.Port))
		if res = probe(ctx, h.name, addr, cfg); res.connected {
			break
		}
	}
	switch {
	case !res.connected:
		f.add(Fail, fmt.Sprintf("cannot reach %s on port %d: %v", h.name, cfg.Port, res.err),
			fmt.Sprintf("allow inbound SMTP connections to %s on port %d", h.name, cfg.Port))
		return
	case !res.starttls && res.err == nil:
		f.add(Fail, fmt.Sprintf("%s does not offer STARTTLS, so mail to it travels in clear text", h.name),
			fmt.Sprintf("enable STARTTLS on %s with a certificate for %s", h.name, h.name))
		return
	case res.err != nil:
		f.add(Fail, fmt.Sprintf("STARTTLS with %s (%s) failed: %v", h.name, addr, res.err),
			fmt.Sprintf("make STARTTLS on %s complete with TLS 1.2 or later", h.name))
		return
	}
	st := res.state
	leaf := st.PeerCertificates[0]
	f.note("%s: %s, %s, certificate from %q valid until %s", h.name, tls.VersionName(st.Version),
		tls.CipherSuiteName(st.CipherSuite), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.DateOnly))
	if st.Version < tls.VersionTLS12 {
		f.add(Fail, fmt.Sprintf("%s negotiates %s; TLS 1.2 is the minimum (RFC 8996)", h.name, tls.VersionName(st.Version)),
			fmt.Sprintf("enable TLS 1.2 and 1.3 on %s", h.name))
	}
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: h.name, Roots: cfg.RootCAs, Intermediates: inter}); err != nil {
		f.add(Fail, fmt.Sprintf("the certificate of %s does not verify: %v", h.name, err),
			fmt.Sprintf("install a certificate for %s issued by a public CA (e.g. via ACME), with its full chain", h.name))
		return
	}
	if left := time.Until(leaf.NotAfter); left < certWarnBefore {
		f.add(Warn, fmt.Sprintf("the certificate of %s expires in %d day(s), on %s", h.name, int(left.Hours()/24), leaf.NotAfter.UTC().Format(time.DateOnly)),
			fmt.Sprintf("renew the certificate for %s", h.name))
	}
}

// probe runs greeting, EHLO, STARTTLS and the TLS handshake against addr.
// The handshake skips verification so that the session can be inspected
// and the verification error reported in words; probeHost verifies.
func probe(ctx context.Context, host, addr string, cfg Config) probeResult {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return probeResult{err: err}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return probeResult{err: fmt.Errorf("greeting: %w", err)}
	}
	res := probeResult{connected: true}
	if err := tp.PrintfLine("EHLO %s", cfg.HeloName); err != nil {
		res.err = err
		return res
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		res.err = fmt.Errorf("EHLO: %w", err)
		return res
	}
	for _, line := range strings.Split(msg, "\n")[1:] {
		if kw := strings.Fields(line); len(kw) > 0 && strings.EqualFold(kw[0], "STARTTLS") {
			res.starttls = true
		}
	}
	if !res.starttls {
		_ = tp.PrintfLine("QUIT")
		return res
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		res.err = err
		return res
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		res.err = fmt.Errorf("STARTTLS: %w", err)
		return res
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true, // #nosec G402 -- verified by probeHost, which reports why it fails
		MinVersion:         tls.VersionTLS10,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		res.err = fmt.Errorf("TLS handshake: %w", err)
		return res
	}
	st := tc.ConnectionState()
	res.state = &st
	if len(st.PeerCertificates) == 0 {
		res.err = fmt.Errorf("the server sent no certificate")
	}
	quit := textproto.NewConn(tc)
	if quit.PrintfLine("QUIT") == nil {
		_, _, _ = quit.ReadResponse(221)
	}
	return res
}
