package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/dlp"
	"github.com/sealpost/sealpost/internal/mailauth"
	"github.com/sealpost/sealpost/internal/store"
)

// Incoming is one message for one protected domain, as an SMTP transaction gave it.
type Incoming struct {
	Domain   *store.InboundDomain
	ClientIP net.IP
	Helo     string
	MailFrom string
	Rcpts    []string
	TLS      bool
	Raw      []byte
}

// Outcome is what became of a message.
type Outcome struct {
	ID      string   // the inbound message id ("" when rejected)
	Action  string   // "forward", "quarantine" or "reject"
	Reasons []string // codes, for the log and the reply
}

// Envelope is the sealed description of an inbound message: shown to administrators
// in the quarantine, never logged.
type Envelope struct {
	MailFrom    string   `json:"mail_from"`
	Rcpts       []string `json:"rcpts"`
	Pending     []string `json:"pending"` // recipients not yet forwarded
	From        string   `json:"from"`
	Subject     string   `json:"subject"`
	Attachments []string `json:"attachments,omitempty"`
	ClientIP    string   `json:"client_ip"`
	Helo        string   `json:"helo"`
}

// Receive judges a message and commits the outcome before the caller answers: a
// message to forward (its row is the forwarding job) or to hold, its events and its
// journal entry in one transaction; or, under a reject policy, only the rejection's
// event. An error means nothing was committed: the caller answers 451.
func (s *Service) Receive(ctx context.Context, in *Incoming) (*Outcome, error) {
	d := in.Domain
	c := inspect(in.Raw)
	v := mailauth.Check(ctx, s.cfg.Resolver, mailauth.Input{IP: in.ClientIP, Helo: in.Helo, MailFrom: in.MailFrom,
		FromDomain: domainOf(c.from), Raw: in.Raw})
	reasons := map[string]bool{}
	if d.AttachmentAction == ActionQuarantine {
		for r := range c.reasons {
			reasons[r] = true
		}
	}
	reject := false
	if v.DMARC == "fail" && (v.Enforce || v.Policy == "quarantine") && d.DMARCAction != ActionNone {
		reasons[ReasonDMARC] = true
		// RFC 7489 6.7: reject only what the domain asked to be rejected.
		reject = d.DMARCAction == ActionReject && v.Enforce
	}
	keys, err := s.tenants.Keys(ctx, d.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if reject {
		out := &Outcome{Action: "reject", Reasons: []string{ReasonDMARC}}
		id := newID()
		err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertEvents(ctx, &store.Event{TenantID: d.TenantID, MessageID: id, Type: "inbound.rejected", At: now})
		})
		return out, err
	}
	if d.DLPAction == ActionQuarantine && s.scan != nil {
		findings, err := s.scan.Scan(ctx, d.TenantID, c.dlp)
		if err != nil {
			return nil, fmt.Errorf("inbound dlp: %w", err)
		}
		if len(findings) > 0 {
			reasons[ReasonDLP] = true
		}
	}
	c.dlp = dlp.Input{} // the decoded copy is no longer needed
	stamped, err := mailauth.Stamp(in.Raw, s.cfg.Hostname, v.Header(s.cfg.Hostname)+s.received(in, now))
	if err != nil {
		return nil, err
	}
	id := newID()
	out := &Outcome{ID: id, Action: "forward"}
	for r := range reasons {
		out.Reasons = append(out.Reasons, r)
	}
	slices.Sort(out.Reasons)
	status := store.InboundQueued
	types := []string{"inbound.received"}
	if len(out.Reasons) > 0 {
		out.Action, status = "quarantine", store.InboundQuarantined
		types = append(types, "inbound.quarantined")
	}
	env, _ := json.Marshal(Envelope{MailFrom: in.MailFrom, Rcpts: in.Rcpts, Pending: in.Rcpts, From: c.from, Subject: c.subject,
		Attachments: c.attachments, ClientIP: in.ClientIP.String(), Helo: in.Helo})
	verdict, _ := json.Marshal(v)
	m := &store.InboundMessage{ID: id, TenantID: d.TenantID, DomainID: d.ID, Status: status, Reasons: out.Reasons, Size: int64(len(stamped)),
		CreatedAt: now, NextAttemptAt: now, Envelope: keys.Data.Seal(env, "inbound/"+id+"/envelope"),
		Verdict: keys.Data.Seal(verdict, "inbound/"+id+"/verdict"), Content: keys.Data.Seal(stamped, "inbound/"+id+"/content")}
	var journal *archive.Prepared
	if s.cfg.Journal {
		// Sealed and indexed before the transaction, which then only inserts rows.
		if journal, err = archive.Prepare(keys, &archive.Record{TenantID: d.TenantID, MessageID: id, Direction: archive.Inbound, At: now,
			Principal: "smtp:inbound", Recipients: in.Rcpts, Raw: stamped}); err != nil {
			return nil, err
		}
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertInboundMessage(ctx, m); err != nil {
			return err
		}
		var evs []*store.Event
		for _, t := range types {
			evs = append(evs, &store.Event{TenantID: d.TenantID, MessageID: id, Type: t, At: now})
		}
		if err := tx.InsertEvents(ctx, evs...); err != nil {
			return err
		}
		if journal != nil {
			return journal.Insert(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if status == store.InboundQueued {
		s.Notify()
	}
	return out, nil
}

// received is our trace field (RFC 5321 4.4), without the recipient (a Bcc stays blind).
func (s *Service) received(in *Incoming, now time.Time) string {
	with := "ESMTP"
	if in.TLS {
		with = "ESMTPS" // RFC 3848
	}
	helo := strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, in.Helo)
	return fmt.Sprintf("Received: from %s ([%s])\r\n\tby %s with %s;\r\n\t%s\r\n", helo, in.ClientIP, s.cfg.Hostname, with, now.UTC().Format(time.RFC1123Z))
}

func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}
