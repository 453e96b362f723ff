package delivery

import (
	"cmp"
	"context"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/sealpost/sealpost/internal/message"
)

// deliver is Deliver without the logging.
func (c *Client) deliver(ctx context.Context, env Envelope, msg io.Reader) (*Result, *Error) {
	if !validAddr(env.From, true) {
		return nil, &Error{Stage: StageMail, Enhanced: "5.1.7", Message: "invalid sender address"}
	}
	domain, ok := recipientDomain(env.To)
	if !ok || !validAddr(env.To, false) {
		return nil, &Error{Stage: StageRcpt, Enhanced: "5.1.3", Message: "invalid recipient address"}
	}
	if local := env.To[:strings.LastIndexByte(env.To, '@')]; isASCII(local) && !isASCII(env.To) {
		// Only the domain is internationalised: its A-label form lets the
		// address travel without SMTPUTF8 (RFC 6531 3.2, RFC 5890 2.3.2.1).
		env.To = local + "@" + domain
	}
	targets, e := c.route(ctx, domain)
	if e != nil {
		return nil, e
	}
	if e := c.domainPolicy(ctx, domain, targets); e != nil {
		return nil, e
	}
	// RFC 5321 5.1: try the hosts in order until one takes responsibility
	// for the message or refuses it within a transaction.
	var errs errorSet
	for _, t := range targets {
		res, e, final := c.deliverTo(ctx, t, env, msg)
		if res != nil {
			return res, nil
		}
		if final {
			return nil, e
		}
		errs.add(e)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errs.result()
}

// deliverTo tries one host, first over an idle connection, then over new
// ones to each of its addresses. final reports that the host answered
// within a transaction, so no other host should be tried.
func (c *Client) deliverTo(ctx context.Context, t target, env Envelope, msg io.Reader) (res *Result, e *Error, final bool) {
	var failure string // what an MTA-STS testing policy would have refused
	if !t.smart {
		if e, failure = c.hostPolicy(ctx, &t); e != nil {
			return nil, e, false
		}
	}
	idleOK := true
	var opened func() // ends this delivery's slot to open a connection (pool.take)
	for {
		cn, slot, err := c.pool.take(ctx, t.key(), idleOK)
		if err != nil {
			return nil, smtpError(StageConnect, t.host, err), false
		}
		if cn == nil {
			opened = slot
			break
		}
		// A pooled connection was opened for an earlier delivery, perhaps
		// under other demands: it is only used if it meets these.
		e, poolFailure := t.check(env, cn)
		if e != nil {
			c.pool.put(cn)
			idleOK = false
			continue
		}
		res, e, stale := c.send(ctx, cn, env, msg, true)
		if !stale || ctx.Err() != nil {
			t.annotate(res, cmp.Or(failure, poolFailure))
			return res, e, true
		}
		// The idle connection died before MAIL was accepted, most likely
		// timed out by the server. msg has not been read, so try afresh.
		c.log.Debug("idle connection unusable", "mx", t.host, "code", e.Code)
	}

	defer opened()
	addrs := t.addrs
	if addrs == nil {
		// RFC 3463 X.4.4: unable to route, when the MX name has no address.
		if addrs, e = c.lookupHost(ctx, t.host, "5.4.4"); e != nil {
			e.MX = t.host
			return nil, e, false
		}
	}
	var errs errorSet
	for _, ip := range addrs {
		ap := netip.AddrPortFrom(ip, uint16(t.port)) // #nosec G115 -- config validates the port as 1-65535
		cn, e, retryPlain := c.open(ctx, t, ap, true)
		if e != nil && retryPlain && !t.requiresTLS(env) {
			// Opportunistic TLS (RFC 7435 3): a broken TLS stack at the
			// server is no worse than none, so retry once in plaintext as
			// a client that never tried STARTTLS would have sent it.
			c.log.Info("STARTTLS handshake failed, retrying in plaintext", "mx", t.host, "addr", ap.String())
			reason := e.Message
			if cn, e, _ = c.open(ctx, t, ap, false); cn != nil {
				cn.tlsFallback = reason
			}
		}
		if e != nil {
			errs.add(e)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		opened()
		e, connFailure := t.check(env, cn)
		if e != nil {
			cn.quit()
			errs.add(e)
			break // the host's other addresses serve the same certificate
		}
		res, e, _ = c.send(ctx, cn, env, msg, false)
		t.annotate(res, cmp.Or(failure, connFailure))
		return res, e, true
	}
	return nil, errs.result(), false
}

// send runs one transaction on cn and then pools or closes it. stale
// reports a failure that says nothing about the message: the connection
// broke, or the server closed it (421), before MAIL was accepted. Only then
// is msg known to be unread and the transaction safe to repeat.
func (c *Client) send(ctx context.Context, cn *conn, env Envelope, msg io.Reader, reused bool) (res *Result, e *Error, stale bool) {
	stop := context.AfterFunc(ctx, func() { cn.raw.Close() })
	reply, e, mailOK, inSync := c.transact(cn, env, msg)
	alive := stop()

	if e == nil {
		cn.sent++
		res = &Result{MX: cn.mx, Addr: cn.addr, Reply: reply, Reused: reused, TLSFallback: cn.tlsFallback}
		if cn.tls != nil {
			info := *cn.tls // each Result gets its own copy
			res.TLS = &info
		}
		switch {
		case !alive:
			cn.close()
		case cn.sent >= c.cfg.MaxMessagesPerConn:
			cn.quit()
		default:
			c.pool.put(cn)
		}
		return res, nil, false
	}
	if !alive {
		e, inSync = smtpError(e.Stage, cn.mx, ctx.Err()), false
	}
	// RFC 5321 3.8: 421 means the server is closing the channel.
	closing := e.Code == 421
	if inSync && !closing && c.reset(cn) {
		c.pool.put(cn)
	} else {
		cn.close()
	}
	return nil, e, !mailOK && (!inSync || closing)
}

// reset aborts the failed transaction with RSET (RFC 5321 4.1.1.5) so the
// connection can carry the next message.
func (c *Client) reset(cn *conn) bool {
	cn.client.CommandTimeout = 30 * time.Second // don't hold up the caller long
	defer func() { cn.client.CommandTimeout = c.cfg.CommandTimeout }()
	return cn.client.Reset() == nil
}

// transact sends MAIL, RCPT and DATA. inSync reports that the failure was
// a reply from the server, so the session is still usable after RSET.
func (c *Client) transact(cn *conn, env Envelope, msg io.Reader) (reply string, e *Error, mailOK, inSync bool) {
	cl := cn.client
	opts := &smtp.MailOptions{}
	if sized, ok := msg.(interface{ Len() int }); ok {
		// RFC 1870 3: declaring the size lets a server refuse an oversized
		// message before it is sent. The value is the client's estimate;
		// line-ending normalisation can only add a little.
		opts.Size = int64(sized.Len())
	}
	if !isASCII(env.From) || !isASCII(env.To) {
		// RFC 6531 3.4: without SMTPUTF8 at the server the message cannot
		// be delivered as is; downgrading is out of scope.
		if ok, _ := cl.Extension("SMTPUTF8"); !ok {
			return "", &Error{Stage: StageMail, MX: cn.mx, Enhanced: "5.6.7", Message: "server does not support SMTPUTF8"}, false, true
		}
		opts.UTF8 = true
	}
	if err := cl.Mail(env.From, opts); err != nil {
		return "", smtpError(StageMail, cn.mx, err), false, isReply(err)
	}
	if err := cl.Rcpt(env.To, nil); err != nil {
		return "", smtpError(StageRcpt, cn.mx, err), true, isReply(err)
	}
	if env.BeforeData != nil {
		if err := env.BeforeData(); err != nil {
			// Nothing has left: the caller resets the transaction and may retry.
			return "", &Error{Temporary: true, Stage: StageData, MX: cn.mx, Enhanced: "4.3.0", Message: "not sent: " + oneLine(err.Error()), Err: err}, true, true
		}
	}
	w, err := cl.Data()
	if err != nil {
		return "", smtpError(StageData, cn.mx, err), true, isReply(err)
	}
	src := message.NewCRLFReader(msg)
	if _, err := io.Copy(deadlineWriter{w: w, conn: cn.nc, timeout: c.cfg.CommandTimeout}, src); err != nil {
		// Never finish DATA after a partial copy: the server would take a
		// truncated message as complete. The caller drops the connection,
		// and the server discards the transaction (RFC 5321 3.8).
		if src.ReadErr != nil {
			return "", &Error{Temporary: true, Stage: StageData, MX: cn.mx, Enhanced: "4.3.0", Message: "reading message: " + oneLine(src.ReadErr.Error()), Err: src.ReadErr}, true, false
		}
		return "", smtpError(StageData, cn.mx, err), true, false
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", smtpError(StageData, cn.mx, err), true, isReply(err)
	}
	return "250 " + oneLine(resp.StatusText), nil, true, true
}
