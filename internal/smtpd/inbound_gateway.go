package smtpd

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/inbound"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/store"
)

// The inbound listener is also the gateway for the domains tenants protect: their MX
// points here, and mail for them is judged (SPF, DKIM, DMARC, attachments, DLP) and
// forwarded to the tenant's mailbox host or held in quarantine. Mail for any other
// domain is refused: this is no open relay.
var (
	errNotOurs      = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: not a domain this server accepts mail for"}
	errOneDomain    = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "Too many recipient domains in one transaction; send the rest separately"}
	errDMARCRejects = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message refused: it failed DMARC and the sender domain's policy is reject"}
)

// gatewayRcpt takes a recipient of a protected domain. One transaction carries mail
// for one protected domain (one tenant, one smart host, one policy): recipients of
// another get 452 and arrive in a transaction of their own (RFC 5321 3.3).
func (ss *session) gatewayRcpt(to string) error {
	a, err := message.ParseAddress(to)
	if err != nil {
		return errBadAddress
	}
	if ss.s.deps.Inbound == nil {
		return errNotOurs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := ss.s.deps.Inbound.Lookup(ctx, a.Domain())
	if errors.Is(err, store.ErrNotFound) {
		ss.log.Info("recipient refused: domain not protected")
		return errNotOurs
	}
	if err != nil {
		return errUnavailable
	}
	if len(ss.intake) > 0 || (ss.gwDomain != nil && ss.gwDomain.ID != d.ID) {
		return errOneDomain
	}
	ss.gwDomain = d
	ss.rcpts = append(ss.rcpts, a.Addr)
	return nil
}

// gatewayData judges the message and answers only once the outcome is committed.
func (ss *session) gatewayData(raw []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ip := net.ParseIP(ss.addr)
	out, err := ss.s.deps.Inbound.Receive(ctx, &inbound.Incoming{Domain: ss.gwDomain, ClientIP: ip, Helo: ss.conn.Hostname(),
		MailFrom: ss.from, Rcpts: ss.rcpts, TLS: ss.tls != nil, Raw: raw})
	if err != nil {
		if store.IsUnavailable(err) {
			ss.log.Warn("database unavailable", "err", err)
		} else {
			ss.log.Error("inbound message not recorded", "err", err)
		}
		return errUnavailable
	}
	ss.log.Info("inbound message", "tenant", ss.gwDomain.TenantID, "inbound_message", out.ID, "action", out.Action,
		"reasons", strings.Join(out.Reasons, " "), "recipients", len(ss.rcpts))
	if out.Action == "reject" {
		return errDMARCRejects
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK queued as " + out.ID}
}

// isBounceAddress says whether a recipient is addressed to the bounce domain.
func (ss *session) isBounceAddress(to string) bool {
	d := ss.s.cfg.BounceDomain
	at := strings.LastIndexByte(to, '@')
	return d != "" && at >= 0 && strings.EqualFold(strings.TrimSuffix(to[at+1:], "."), d)
}
