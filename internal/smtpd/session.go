package smtpd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Replies with their RFC 3463 enhanced codes. Texts never echo an address or content.
var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errLocked       = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many failed authentications; try again later"}
	errNoSendScope  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "These credentials may not send"}
	errSender       = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address is not a verified domain of this account"}
	errBadAddress   = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Address is not valid"}
	errBareLine     = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Bare CR or LF in message; lines must end with CRLF"}
	errUnavailable  = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary local problem; try again later"}
	errNoMemory     = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system resources; try again later"}
	errRequireTLS   = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 10}, Message: "REQUIRETLS needs a TLS session"}
)

type session struct {
	s     *Server
	mode  Mode
	conn  *smtp.Conn
	log   *slog.Logger
	addr  string // client IP
	tls   *tls.ConnectionState
	p     *tenant.Principal
	from  string
	rcpts []string
	opts  smtp.MailOptions
	// Relay mode: the tenant owning the sender domain and its proofs, until one holds.
	relayTenant, relayDomain string
	proofs                   []*store.RelayProof
	// Inbound mode: the recipients a report is addressed to.
	intake []intakeRcpt
	// Inbound mode: the protected domain the gateway's recipients belong to.
	gwDomain *store.InboundDomain
}

func newSession(s *Server, mode Mode, c *smtp.Conn) *session {
	addr := c.Conn().RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ss := &session{s: s, mode: mode, conn: c, addr: addr, log: s.deps.Log.With("smtp_session", tenant.NewID("smt"), "mode", string(mode))}
	if st, ok := c.TLSConnectionState(); ok {
		ss.tls = &st
	}
	return ss
}

func (ss *session) AuthMechanisms() []string {
	if ss.mode == Relay || ss.mode == Inbound {
		return nil // a relay proves itself by certificate or DKIM; inbound needs no AUTH
	}
	return []string{"PLAIN", "LOGIN"}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		return ss.authenticate(username, password)
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(check), nil
	case "LOGIN":
		return &loginServer{check: func(u, p string) error { return check("", u, p) }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// authenticate checks a username and password, refusing at once while the client
// address or the username is locked out; a failure counts against both in the database,
// so every process shares the count (one process's lockout holds in the others).
func (ss *session) authenticate(username, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := [][]byte{failureKey("addr", clientNet(ss.addr)), failureKey("user", username)}
	now := time.Now()
	locked, err := ss.s.deps.DB.SMTPAuthLocked(ctx, now, keys...)
	if err != nil {
		ss.log.Warn("auth lockout check failed", "err", err)
		return errUnavailable
	}
	if locked {
		ss.log.Info("auth refused: locked out")
		return errLocked
	}
	p, err := ss.s.deps.Tenants.AuthenticateSMTP(ctx, username, password)
	if errors.Is(err, tenant.ErrBadSMTPCredentials) {
		cfg := ss.s.cfg
		if err := ss.s.deps.DB.SMTPAuthFailed(ctx, now, cfg.AuthWindow, cfg.AuthMaxFailures, cfg.AuthLockout, keys...); err != nil {
			ss.log.Warn("auth failure not recorded", "err", err)
		}
		ss.log.Info("auth failed")
		return smtp.ErrAuthFailed
	}
	if err != nil {
		ss.log.Warn("auth lookup failed", "err", err)
		return errUnavailable
	}
	ss.p = p
	ss.log = ss.log.With("tenant", p.TenantID, "credential", p.KeyID)
	ss.log.Info("authenticated")
	return nil
}

// failureKey names a lockout counter without storing the address or username itself.
func failureKey(kind, v string) []byte {
	h := sha256.Sum256([]byte("smtp auth failures\x00" + kind + "\x00" + v))
	return h[:16]
}

// clientNet is the unit a lockout applies to: an IPv4 address, or an IPv6 /64 (one
// host usually holds a whole /64).
func clientNet(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String()
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.mode == Inbound {
		// Reports come from any server, usually with the null sender (RFC 3464 2).
		ss.from = from
		return nil
	}
	if ss.mode == Relay {
		if err := ss.relayMail(from); err != nil {
			return err
		}
		if opts != nil {
			ss.opts = *opts
		}
		return nil
	}
	if ss.p == nil {
		// No relay without authentication (RFC 6409 4.3): this listener is for
		// submission only.
		return errAuthRequired
	}
	if !ss.p.Can(tenant.ScopeSend) {
		return errNoSendScope
	}
	if opts != nil && opts.RequireTLS && ss.tls == nil {
		return errRequireTLS
	}
	a, err := message.ParseAddress(from)
	if err != nil || from == "" {
		return errBadAddress
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := ss.s.deps.Tenants.SenderAllowed(ctx, ss.p.TenantID, a.Domain())
	if err != nil {
		return errUnavailable
	}
	if !ok {
		return errSender
	}
	ss.from = a.Addr
	if opts != nil {
		ss.opts = *opts
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.mode == Inbound {
		if !ss.isBounceAddress(to) {
			return ss.gatewayRcpt(to)
		}
		if ss.gwDomain != nil {
			return errOneDomain
		}
		return ss.intakeRcptTo(to)
	}
	if ss.p == nil && ss.relayTenant == "" {
		return errAuthRequired
	}
	a, err := message.ParseAddress(to)
	if err != nil {
		return errBadAddress
	}
	ss.rcpts = append(ss.rcpts, a.Addr)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.mode == Inbound {
		raw, release, err := ss.readData(r)
		defer release()
		if err != nil {
			return err
		}
		if ss.gwDomain != nil {
			return ss.gatewayData(raw)
		}
		return ss.intakeData(raw)
	}
	if ss.p == nil && ss.relayTenant == "" {
		return errAuthRequired
	}
	raw, release, err := ss.readData(r)
	defer release()
	if err != nil {
		return err
	}
	d, err := draftFromMIME(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message cannot be accepted: " + err.Error()}
	}
	if ss.mode == Relay {
		if err := ss.relayProve(raw, d.From.Domain()); err != nil {
			return err
		}
	}
	raw = nil
	// Envelope recipients the headers do not name are blind copies; header addresses
	// outside the envelope are not delivered to (Submission.Envelope).
	named := map[string]bool{}
	for _, a := range append(append([]message.Address{}, d.To...), d.Cc...) {
		named[message.RecipientKey(a.Addr, false)] = true
	}
	for _, rc := range ss.rcpts {
		if !named[message.RecipientKey(rc, false)] {
			d.Bcc = append(d.Bcc, message.Address{Addr: rc})
		}
	}
	sub := &pipeline.Submission{Principal: ss.p, Draft: d, Via: ss.via(), ClientAddr: ss.addr, TLS: ss.tls, Envelope: ss.rcpts,
		Audit: &store.AuditEntry{At: time.Now(), TenantID: ss.p.TenantID, Principal: "smtp:" + ss.p.KeyID, Action: "SMTP " + string(ss.mode), Result: "250", Client: ss.addr}}
	if ss.opts.RequireTLS {
		// RFC 8689: the message must travel over verified TLS at every hop; verified
		// TLS is the least our methods offer under "tls".
		sub.Security.Require = "tls"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := ss.s.deps.Pipeline.Submit(ctx, sub)
	if err != nil {
		return ss.refusal(err)
	}
	if !res.HandedOff {
		ss.s.deps.OnAccepted()
	}
	ss.log.Info("message accepted", "message", res.MessageID, "recipients", len(res.Recipients), "status", res.Status)
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK queued as " + res.MessageID}
}

func (ss *session) via() string {
	// RFC 3848: ESMTPSA is ESMTP with TLS and AUTH; a relay proves itself without AUTH.
	if ss.mode == Relay {
		return "ESMTPS"
	}
	if ss.tls != nil {
		return "ESMTPSA"
	}
	return "ESMTPA"
}

// refusal turns a pipeline error into an SMTP reply: problems with the message are
// permanent, an unavailable database is 451 4.3.0, anything else temporary too (the
// client keeps the message and retries rather than lose it).
func (ss *session) refusal(err error) error {
	var pe *pipeline.Error
	if errors.As(err, &pe) {
		ss.log.Info("message refused", "status", pe.Status, "title", pe.Title)
		switch {
		case pe.Status == 413:
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: pe.Title}
		case pe.Title == "Sender domain not verified":
			return errSender
		case pe.Status == 422 && len(pe.Fields) == 0:
			// Refused by policy (block).
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: pe.Title}
		case pe.Status >= 400 && pe.Status < 500:
			detail := pe.Title
			if len(pe.Fields) > 0 {
				detail += ": " + pe.Fields[0].Field + " " + pe.Fields[0].Detail
			}
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: detail}
		}
	}
	if store.IsUnavailable(err) {
		ss.log.Warn("database unavailable", "err", err)
	} else {
		ss.log.Error("submission failed", "err", err)
	}
	return errUnavailable
}

// readData reads the message, holding its bytes in the process's memory budget as
// they arrive, and refuses a bare CR or LF anywhere in it (RFC 5321 2.3.8): a message
// whose line ends are ambiguous is how SMTP smuggling splits one message into two at
// a server that reads them differently.
func (ss *session) readData(r io.Reader) ([]byte, func(), error) {
	var held int64
	release := func() { ss.s.deps.Memory.Release(held) }
	var buf bytes.Buffer
	chunk := make([]byte, 64<<10)
	var prev byte
	bare := false
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), ss.s.cfg.MemoryWait)
			got, ok := ss.s.deps.Memory.Take(ctx, int64(n))
			cancel()
			if !ok {
				return nil, release, errNoMemory
			}
			held += got
			for _, c := range chunk[:n] {
				if (c == '\n' && prev != '\r') || (prev == '\r' && c != '\n') {
					bare = true
				}
				prev = c
			}
			if !bare {
				buf.Write(chunk[:n])
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, release, err
		}
	}
	if bare || prev == '\r' {
		ss.log.Info("message refused: bare CR or LF")
		return nil, release, errBareLine
	}
	return buf.Bytes(), release, nil
}

func (ss *session) Reset() {
	ss.from, ss.rcpts, ss.opts, ss.intake, ss.gwDomain = "", nil, smtp.MailOptions{}, nil, nil
	if ss.mode == Relay {
		// A relay session's identity is per message: each proves its own.
		ss.p, ss.relayTenant, ss.relayDomain, ss.proofs = nil, "", "", nil
	}
}

func (ss *session) Logout() error { return nil }

// loginServer is the LOGIN mechanism (draft-murchison-sasl-login): username and
// password each in answer to a prompt.
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response != nil {
			// An initial response is the username.
			l.username, l.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.username, string(response))
	}
	return nil, false, fmt.Errorf("unexpected response")
}
