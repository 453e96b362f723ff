package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/tlssec"
)

// TLSInfo describes the TLS session a message travelled over.
type TLSInfo struct {
	Version string `json:"version"` // "TLSv1.3"
	Cipher  string `json:"cipher"`  // tls.CipherSuiteName
	// Verified means the server authenticated: its certificate matched a
	// DANE TLSA record (then DANE is set too), or, for a host without
	// usable TLSA records, it chains to RootCAs and matches ServerName.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"` // why Verified is false
	ServerName  string `json:"server_name"`            // name the certificate was checked against
	DANE        bool   `json:"dane,omitempty"`         // authenticated by DANE (RFC 7672)
	MTASTS      string `json:"mta_sts,omitempty"`      // MTA-STS mode that applied: "testing" or "enforce"
	// Resumed: the handshake resumed an earlier session (RFC 8446 2.2) and
	// skipped the key exchange's signature; the certificate was that session's
	// and was checked again here, as on a full handshake.
	Resumed bool `json:"resumed,omitempty"`

	webPKI bool // the certificate verified against RootCAs, whatever DANE said
}

// startTLS sends EHLO and, if the server offers it, STARTTLS (RFC 3207).
// On success cn.tls and cn.nc are set; if the server has no STARTTLS or
// refuses it, cn stays plaintext and the reason is kept in cn.tlsFallback.
func (c *Client) startTLS(ctx context.Context, cn *conn, tp *textproto.Conn, t target) (*Error, bool) {
	_, ehlo, err := command(tp, 250, "EHLO "+c.cfg.HeloName)
	if err != nil {
		var terr *textproto.Error
		if errors.As(err, &terr) {
			return nil, false // no ESMTP, so no STARTTLS; go-smtp falls back to HELO
		}
		return smtpError(StageHelo, t.host, err), false
	}
	if !hasExtension(ehlo, "STARTTLS") {
		return nil, false
	}
	if _, _, err := command(tp, 220, "STARTTLS"); err != nil {
		var terr *textproto.Error
		if errors.As(err, &terr) {
			// RFC 3207 4: e.g. 454 "TLS not available due to temporary
			// reason"; the session continues in plaintext.
			cn.tlsFallback = "STARTTLS refused: " + oneLine(terr.Error())
			return nil, false
		}
		return smtpError(StageTLS, t.host, err), false
	}
	if tp.R.Buffered() > 0 {
		// Bytes that arrived before the handshake were not protected by
		// it; acting on them would allow response injection. RFC 3207 4.2:
		// nothing learnt before TLS may be kept.
		return &Error{Temporary: true, Stage: StageTLS, MX: t.host, Enhanced: "4.7.0", Message: "server sent data before the TLS handshake"}, false
	}
	info := &TLSInfo{}
	tc := tls.Client(cn.raw, c.tlsConfig(t, info))
	if err := tc.HandshakeContext(ctx); err != nil {
		return &Error{Temporary: true, Stage: StageTLS, MX: t.host, Enhanced: "4.7.5", Message: "TLS handshake failed: " + oneLine(err.Error()), Err: err}, true
	}
	finishTLSInfo(info, tc.ConnectionState())
	cn.tls, cn.nc = info, tc
	return nil, false
}

// command sends one command and reads its reply.
func command(tp *textproto.Conn, expect int, line string) (int, string, error) {
	id, err := tp.Cmd("%s", line)
	if err != nil {
		return 0, "", err
	}
	tp.StartResponse(id)
	defer tp.EndResponse(id)
	return tp.ReadResponse(expect)
}

// hasExtension reports whether an EHLO reply lists keyword (RFC 5321 4.1.1.1).
func hasExtension(ehlo, keyword string) bool {
	lines := strings.Split(ehlo, "\n")
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], keyword) {
			return true
		}
	}
	return false
}

// tlsConfig returns a client configuration that always completes the
// handshake but records in info whether the peer's certificate verified.
// Opportunistic TLS (RFC 3207, RFC 7435 3) must still encrypt when the
// certificate is bad, since most MX certificates are never checked; doing
// the check inside the one handshake avoids a second connection just to
// learn whether it would have verified. Whether a failure may be tolerated
// is decided afterwards, by target.check.
func (c *Client) tlsConfig(t target, info *TLSInfo) *tls.Config {
	serverName := t.host
	info.ServerName = serverName
	roots := c.cfg.RootCAs
	return &tls.Config{
		ServerName: serverName,
		MinVersion: tls.VersionTLS12,
		// A new connection to a host we spoke to recently resumes that session
		// instead of paying for a full handshake. crypto/tls keeps the peer's
		// certificates with the session and runs VerifyConnection on resumption
		// too, so every connection's evidence is checked as on a full handshake.
		ClientSessionCache: c.sessions,
		// Verification happens in VerifyConnection below so that a failure
		// is recorded instead of aborting the handshake.
		InsecureSkipVerify: true, // #nosec G402 -- verified in VerifyConnection, see above
		VerifyConnection: func(cs tls.ConnectionState) error {
			err := verifyPeer(cs, serverName, roots)
			info.webPKI = err == nil
			if len(t.dane) > 0 {
				// RFC 7672 2.2, 3.1: with usable TLSA records the records
				// alone decide; names and CAs matter only to DANE-TA.
				err = tlssec.Verify(t.dane, cs.PeerCertificates, []string{serverName}, time.Now())
				info.DANE = err == nil
				if err != nil {
					err = fmt.Errorf("DANE: %w", err)
				}
			}
			info.Verified, info.VerifyError = err == nil, ""
			if err != nil {
				info.VerifyError = err.Error()
			}
			return nil
		},
	}
}

// verifyPeer does what crypto/tls would do without InsecureSkipVerify.
func verifyPeer(cs tls.ConnectionState, serverName string, roots *x509.CertPool) error {
	return tlssec.VerifyWebPKI(cs.PeerCertificates, serverName, roots)
}

// finishTLSInfo fills in the negotiated parameters once the handshake is
// done.
func finishTLSInfo(info *TLSInfo, cs tls.ConnectionState) {
	info.Version = tlssec.VersionName(cs.Version)
	info.Cipher = tls.CipherSuiteName(cs.CipherSuite)
	info.Resumed = cs.DidResume
}

// checkRequireTLS enforces Envelope.RequireTLS: a verified TLS session or a
// temporary failure, so the message waits rather than travels unprotected.
func checkRequireTLS(info *TLSInfo, mx string) *Error {
	switch {
	case info == nil: // X.7.10: TLS support required (RFC 8689 5)
		return &Error{Temporary: true, Stage: StageTLS, MX: mx, Enhanced: "4.7.10", Message: "TLS required but the server does not offer STARTTLS"}
	case !info.Verified: // X.7.5: cryptographic failure (RFC 3463 3.8)
		return &Error{Temporary: true, Stage: StageTLS, MX: mx, Enhanced: "4.7.5", Message: "TLS required but the certificate did not verify: " + info.VerifyError}
	}
	return nil
}
