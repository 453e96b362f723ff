package smtpd

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/verp"
)

// Inbound is the listener other servers deliver to (port 25). It takes asynchronous
// bounces (RFC 3464) and complaints (RFC 5965) addressed to a delivery's return path,
// bounces+<token>@<smtp.bounce_domain>, and records them as the recipient's bounced or
// complained event.
const Inbound Mode = "inbound"

// Suppressor records that an address must not be mailed again (a hard bounce, a
// complaint). It is declared here, where it is used; the marketing side's suppression
// list implements it. Scope is "tenant" for both reasons today.
type Suppressor interface {
	Suppress(ctx context.Context, tenantID, address, reason, scope string) error
}

var errNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}

type intakeRcpt struct {
	recipientID, tenantID, messageID string
}

// intakeRcpt accepts only a valid bounce address of ours.
func (ss *session) intakeRcptTo(to string) error {
	domain := ss.s.cfg.BounceDomain
	if domain == "" {
		return errNoSuchUser
	}
	id, tag, ok := verp.Parse(to, domain)
	if !ok {
		return errNoSuchUser
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := ss.s.deps.DB.Recipient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errNoSuchUser
	}
	if err != nil {
		return errUnavailable
	}
	keys, err := ss.s.deps.Tenants.Keys(ctx, r.TenantID)
	if err != nil {
		return errUnavailable
	}
	if !verp.Valid(id, tag, verpMAC(keys)) {
		return errNoSuchUser
	}
	ss.intake = append(ss.intake, intakeRcpt{recipientID: r.ID, tenantID: r.TenantID, messageID: r.MessageID})
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

// verpMAC is the keyed hash behind a tenant's bounce addresses.
func verpMAC(keys *tenant.Keys) verp.MAC {
	return func(id string) []byte { return keys.Hash("verp", id) }
}

// ReturnPath is the envelope sender for one recipient's delivery when bounce_domain is
// set: the queue calls it, this package reads it back.
func ReturnPath(bounceDomain string) func(keys *tenant.Keys, recipientID, from string) string {
	return func(keys *tenant.Keys, recipientID, _ string) string {
		return verp.Address(bounceDomain, recipientID, verpMAC(keys))
	}
}

// intakeData records what a report says about each addressed recipient. A message to
// a bounce address that is not a failure report or complaint (a delay notice, an
// auto-reply) is accepted and dropped: there is nothing to record.
func (ss *session) intakeData(raw []byte) error {
	rep, err := parseReport(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Report cannot be parsed"}
	}
	if rep.Kind == "" {
		ss.log.Info("bounce address mail without a failure or complaint: dropped", "recipients", len(ss.intake))
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now()
	data, _ := json.Marshal(map[string]any{"async": true, "status": rep.Status, "feedback_type": rep.FeedbackType})
	var events []*store.Event
	for _, r := range ss.intake {
		keys, err := ss.s.deps.Tenants.Keys(ctx, r.tenantID)
		if err != nil {
			return errUnavailable
		}
		events = append(events, &store.Event{TenantID: r.tenantID, MessageID: r.messageID, RecipientID: r.recipientID,
			Type: rep.Kind, At: now, Data: keys.Data.Seal(data, "event/"+r.recipientID)})
	}
	err = ss.s.deps.DB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertEvents(ctx, events...)
	})
	if err != nil {
		if !store.IsUnavailable(err) {
			ss.log.Error("report not recorded", "err", err)
		}
		return errUnavailable
	}
	ss.log.Info("report recorded", "kind", rep.Kind, "recipients", len(events))
	if sup := ss.s.deps.Suppressor; sup != nil && (rep.Kind == "complained" || strings.HasPrefix(rep.Status, "5")) {
		for _, r := range ss.intake {
			ss.suppress(ctx, sup, r, rep.Kind)
		}
	}
	return nil
}

// suppress hands a hard bounce or complaint to the suppression list. The event is
// committed already; a failure here is logged and the report still acknowledged.
func (ss *session) suppress(ctx context.Context, sup Suppressor, r intakeRcpt, reason string) {
	rec, err := ss.s.deps.DB.Recipient(ctx, r.recipientID)
	if err != nil {
		ss.log.Warn("suppression skipped", "err", err)
		return
	}
	keys, err := ss.s.deps.Tenants.Keys(ctx, r.tenantID)
	if err != nil {
		ss.log.Warn("suppression skipped", "err", err)
		return
	}
	addr, err := keys.Data.OpenString(rec.Address, "recipient/"+rec.ID)
	if err != nil {
		ss.log.Warn("suppression skipped", "err", err)
		return
	}
	if err := sup.Suppress(ctx, r.tenantID, addr, reason, "tenant"); err != nil {
		ss.log.Warn("suppression failed", "err", err)
	}
}
