package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// conn is one open SMTP session, ready for MAIL. Only one goroutine uses
// it at a time: the one delivering, or the pool while it is idle.
type conn struct {
	key         string // pool key, host:port
	mx          string
	addr        string // remote ip:port
	raw         net.Conn
	nc          net.Conn // what the SMTP client reads and writes (TLS or raw)
	client      *smtp.Client
	tls         *TLSInfo
	tlsFallback string // why STARTTLS was abandoned, if it was
	sent        int    // messages delivered on this connection
	timer       *time.Timer
}

// open connects to addr and brings the session to the point where MAIL
// can be sent: greeting, EHLO, STARTTLS when offered and useTLS is set,
// and AUTH for a smart host. A TLS handshake failure is reported with
// retryPlain set, so the caller can try the host once more without TLS.
func (c *Client) open(ctx context.Context, t target, addr netip.AddrPort, useTLS bool) (cn *conn, e *Error, retryPlain bool) {
	dialer := net.Dialer{Timeout: c.cfg.DialTimeout}
	raw, err := dialer.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, smtpError(StageConnect, t.host, err), false
	}
	cn = &conn{key: t.key(), mx: t.host, addr: addr.String(), raw: raw}
	// Closing the socket is the only way to interrupt a blocked read when
	// the caller gives up.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	e, retryPlain = c.startSession(ctx, cn, t, useTLS)
	if stop() && e == nil {
		return cn, nil, false
	}
	cn.close()
	if ctx.Err() != nil {
		e, retryPlain = smtpError(StageConnect, t.host, ctx.Err()), false
	}
	return nil, e, retryPlain
}

// startSession runs the part of the session before the first MAIL.
func (c *Client) startSession(ctx context.Context, cn *conn, t target, useTLS bool) (*Error, bool) {
	var nc net.Conn = cn.raw
	_ = nc.SetDeadline(time.Now().Add(c.cfg.CommandTimeout))
	if t.smart && c.cfg.SmartHostImplicitTLS {
		// RFC 8314 3.3: TLS from the first byte; no plaintext fallback.
		info := &TLSInfo{}
		tc := tls.Client(cn.raw, c.tlsConfig(t, info))
		if err := tc.HandshakeContext(ctx); err != nil {
			return &Error{Temporary: true, Stage: StageTLS, MX: t.host, Enhanced: "4.7.5", Message: oneLine(err.Error()), Err: err}, false
		}
		finishTLSInfo(info, tc.ConnectionState())
		cn.tls, nc = info, tc
	}

	tp := textproto.NewConn(nc)
	// RFC 5321 3.1: the session opens with the server's 220 greeting; any
	// other reply means it will not take mail now.
	if _, _, err := tp.ReadResponse(220); err != nil {
		return replyError(StageConnect, t.host, err), false
	}
	if useTLS && cn.tls == nil {
		if e, retry := c.startTLS(ctx, cn, tp, t); e != nil {
			return e, retry
		}
		if cn.tls != nil {
			nc, tp = cn.nc, nil // RFC 3207 4.2: forget everything said before TLS
		}
	}

	// The greeting (and, without TLS, the EHLO) was consumed above; hand
	// go-smtp a connection that replays a greeting so its state machine
	// starts in step. It then issues its own EHLO, which RFC 5321 4.1.4
	// allows at any time.
	var rest io.Reader = nc
	if tp != nil && tp.R.Buffered() > 0 {
		pending, _ := tp.R.Peek(tp.R.Buffered())
		rest = io.MultiReader(bytes.NewReader(bytes.Clone(pending)), nc)
	}
	cn.nc = &greetedConn{Conn: nc, r: io.MultiReader(strings.NewReader("220 greeting consumed\r\n"), rest)}
	cn.client = smtp.NewClient(cn.nc)
	cn.client.CommandTimeout = c.cfg.CommandTimeout
	cn.client.SubmissionTimeout = c.cfg.DataTimeout
	if err := cn.client.Hello(c.cfg.HeloName); err != nil {
		return smtpError(StageHelo, t.host, err), false
	}
	_ = nc.SetDeadline(time.Time{})

	if t.smart && c.cfg.SmartHostUser != "" {
		return c.auth(cn, t), false
	}
	return nil, false
}

// auth logs in to the smart host with AUTH PLAIN (RFC 4954, RFC 4616).
// Credentials only ever travel over verified TLS. Failures are temporary:
// a wrong password is for the operator to fix, not a reason to bounce.
func (c *Client) auth(cn *conn, t target) *Error {
	fail := func(msg string, err error) *Error {
		return &Error{Temporary: true, Stage: StageAuth, MX: t.host, Enhanced: "4.7.0", Message: msg, Err: err}
	}
	if cn.tls == nil || !cn.tls.Verified {
		return fail("refusing to send credentials without verified TLS", nil)
	}
	if !cn.client.SupportsAuth(sasl.Plain) {
		return fail("smart host does not offer AUTH PLAIN", nil)
	}
	if err := cn.client.Auth(sasl.NewPlainClient("", c.cfg.SmartHostUser, c.cfg.SmartHostPassword)); err != nil {
		e := smtpError(StageAuth, t.host, err)
		e.Temporary = true
		return e
	}
	return nil
}

// replyError maps an error from reading a reply with net/textproto into an
// *Error.
func replyError(stage, mx string, err error) *Error {
	var terr *textproto.Error
	if errors.As(err, &terr) {
		err = &smtp.SMTPError{Code: terr.Code, Message: terr.Msg}
	}
	return smtpError(stage, mx, err)
}

// close drops the connection without ceremony.
func (cn *conn) close() {
	if cn.client != nil {
		_ = cn.client.Close()
		return
	}
	_ = cn.raw.Close()
}

// quit ends the session politely (RFC 5321 4.1.1.10) but without waiting
// long for a server that has gone quiet.
func (cn *conn) quit() {
	if cn.client != nil {
		cn.client.CommandTimeout = 5 * time.Second
		_ = cn.client.Quit()
	}
	cn.close()
}

// greetedConn replays bytes already read from the connection before
// reading from it again.
//
// It also gathers what the SMTP client writes until the client next reads,
// or until a whole TLS record's worth is waiting. The client's text writer
// flushes every 4 KiB, so a 10 KiB message left in three writes — three TLS
// records, three system calls — and the final dot in a fourth; gathered, it
// leaves in one. Nothing is held back for long: without pipelining the client
// reads a reply after every command and after the final dot, and a read sends
// what waits first. A write error then surfaces at that read, before any
// reply is taken — so a message whose bytes did not all leave is never
// reported accepted.
type greetedConn struct {
	net.Conn
	r   io.Reader
	out []byte // written, not yet sent
}

// gatherBytes is TLS's largest record: what is gathered beyond it leaves.
const gatherBytes = 16 << 10

func (g *greetedConn) Read(p []byte) (int, error) {
	if err := g.send(); err != nil {
		return 0, err
	}
	return g.r.Read(p)
}

func (g *greetedConn) Write(p []byte) (int, error) {
	if len(g.out)+len(p) > gatherBytes {
		if err := g.send(); err != nil {
			return 0, err
		}
		if len(p) >= gatherBytes {
			return g.Conn.Write(p)
		}
	}
	if g.out == nil {
		g.out = make([]byte, 0, gatherBytes)
	}
	g.out = append(g.out, p...)
	return len(p), nil
}

// send writes what was gathered.
func (g *greetedConn) send() error {
	if len(g.out) == 0 {
		return nil
	}
	_, err := g.Conn.Write(g.out)
	g.out = g.out[:0]
	return err
}
