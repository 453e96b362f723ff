package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Outcome is the sealed detail of an event and a recipient's status.
type Outcome struct {
	MX            string            `json:"mx,omitempty"`
	Reply         string            `json:"smtp_reply,omitempty"`
	TLS           *delivery.TLSInfo `json:"tls,omitempty"`
	Attempt       int               `json:"attempt"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	Error         string            `json:"error,omitempty"`
	Sandbox       bool              `json:"sandbox,omitempty"`
	DKIM          string            `json:"dkim,omitempty"`
	Stage         string            `json:"stage,omitempty"`
	Reused        bool              `json:"connection_reused,omitempty"`
	Extra         map[string]any    `json:"extra,omitempty"`
}

// deliver makes one attempt and records its outcome.
func (w *Worker) deliver(ctx context.Context, j *store.Job) {
	start := w.now()
	keys, err := w.tenants.Keys(ctx, j.TenantID)
	if errors.Is(err, tenant.ErrShredded) {
		w.finish(ctx, j, pipeline.StatusBounced, &Outcome{Attempt: j.Attempts, Error: errShredded.Error()}, nil)
		return
	}
	if err != nil {
		w.retryLater(ctx, j, nil, fmt.Errorf("load tenant key: %w", err))
		return
	}
	msg, rcpt, env, raw, err := w.load(ctx, keys, j)
	if err != nil {
		w.retryLater(ctx, j, keys, err)
		return
	}
	to, err := keys.Data.OpenString(rcpt.Address, "recipient/"+rcpt.ID)
	if err != nil {
		w.retryLater(ctx, j, keys, err)
		return
	}
	if j.Sandbox {
		w.simulate(ctx, j, to, keys)
		return
	}
	signed, dkimNote := w.sign(ctx, msg, raw)
	res, err := w.out.Deliver(ctx, delivery.Envelope{From: env.From, To: to}, bytes.NewReader(signed))
	if err == nil {
		if w.obs != nil {
			w.obs.Delivered(w.now().Sub(start))
		}
		w.finish(ctx, j, pipeline.StatusDelivered, &Outcome{MX: res.MX, Reply: res.Reply, TLS: res.TLS, Attempt: j.Attempts, DKIM: dkimNote, Reused: res.Reused}, keys)
		return
	}
	var de *delivery.Error
	if errors.As(err, &de) && !de.Temporary {
		if w.obs != nil {
			w.obs.Bounced()
		}
		w.finish(ctx, j, pipeline.StatusBounced, &Outcome{MX: de.MX, Reply: smtpReply(de), Attempt: j.Attempts, Stage: de.Stage, Error: de.Message}, keys)
		return
	}
	w.retryLater(ctx, j, keys, err)
}

func smtpReply(de *delivery.Error) string {
	if de.Code == 0 {
		return ""
	}
	s := fmt.Sprint(de.Code)
	if de.Enhanced != "" {
		s += " " + de.Enhanced
	}
	return s + " " + de.Message
}

func (w *Worker) load(ctx context.Context, keys *tenant.Keys, j *store.Job) (*store.Message, *store.Recipient, *pipeline.Envelope, []byte, error) {
	msg, err := w.db.Message(ctx, "", j.MessageID)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("load message: %w", err)
	}
	rcpt, err := w.db.Recipient(ctx, j.RecipientID)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("load recipient: %w", err)
	}
	envb, err := keys.Data.Open(msg.Envelope, "message/"+msg.ID+"/envelope")
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("open envelope: %w", err)
	}
	var env pipeline.Envelope
	if err := json.Unmarshal(envb, &env); err != nil {
		return nil, nil, nil, nil, err
	}
	raw, err := keys.Data.Open(msg.Content, "message/"+msg.ID+"/content")
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("open content: %w", err)
	}
	return msg, rcpt, &env, raw, nil
}

// sign adds a DKIM signature with the tenant's key for the sender domain, if it has one.
func (w *Worker) sign(ctx context.Context, msg *store.Message, raw []byte) ([]byte, string) {
	k, pem, err := w.tenants.DKIMKey(ctx, msg.TenantID, msg.FromDomain)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			w.log.Error("load dkim key", "message", msg.ID, "err", err)
		}
		return raw, "none"
	}
	key, err := dkimsign.ParsePrivateKey(pem)
	if err != nil {
		w.log.Error("parse dkim key", "message", msg.ID, "err", err)
		return raw, "none"
	}
	var out bytes.Buffer
	out.Grow(len(raw) + 1024)
	s := &dkimsign.Signer{Domain: k.Domain, Selector: k.Selector, Key: key}
	if err := s.Sign(&out, bytes.NewReader(raw)); err != nil {
		w.log.Error("dkim sign", "message", msg.ID, "err", err)
		return raw, "none"
	}
	return out.Bytes(), k.Selector + "._domainkey." + k.Domain
}

// retryLater records a temporary failure, or expiry when the next attempt would fall
// after the job's deadline.
func (w *Worker) retryLater(ctx context.Context, j *store.Job, keys *tenant.Keys, cause error) {
	o := &Outcome{Attempt: j.Attempts, Error: cause.Error()}
	var de *delivery.Error
	if errors.As(cause, &de) {
		o.MX, o.Reply, o.Stage, o.Error = de.MX, smtpReply(de), de.Stage, de.Message
	}
	w.retryOutcome(ctx, j, keys, o)
}

// retryOutcome records a temporary failure described by o.
func (w *Worker) retryOutcome(ctx context.Context, j *store.Job, keys *tenant.Keys, o *Outcome) {
	// RFC 5321 4.5.4.1: the delay grows with each attempt; counted from this attempt's start.
	next := j.ClaimedAt.Add(w.cfg.Retry[min(j.Attempts, len(w.cfg.Retry))-1])
	if next.After(j.ExpiresAt) {
		if w.obs != nil {
			w.obs.Expired()
		}
		w.finish(ctx, j, pipeline.StatusExpired, o, keys)
		return
	}
	if w.obs != nil {
		w.obs.Deferred()
	}
	o.NextAttemptAt = &next
	w.log.Info("delivery deferred", "message", j.MessageID, "recipient", j.RecipientID, "domain", j.Domain, "attempt", j.Attempts, "next", next, "stage", o.Stage)
	w.write(ctx, j, func(ctx context.Context, tx *store.Tx, detail []byte, ev *store.Event) error {
		if err := tx.DeferJob(ctx, j, truncate(o.Reply+" "+o.Error, 200), next); err != nil {
			return err
		}
		if err := tx.SetRecipientStatus(ctx, j.RecipientID, pipeline.StatusDeferred, w.now(), detail); err != nil {
			return err
		}
		return tx.InsertEvents(ctx, ev)
	}, "deferred", o, keys)
}

// finish retires a job with a final outcome.
func (w *Worker) finish(ctx context.Context, j *store.Job, status string, o *Outcome, keys *tenant.Keys) {
	w.log.Info("delivery "+status, "message", j.MessageID, "recipient", j.RecipientID, "domain", j.Domain, "attempt", j.Attempts)
	w.write(ctx, j, func(ctx context.Context, tx *store.Tx, detail []byte, ev *store.Event) error {
		if err := tx.RetireJob(ctx, j, status, w.now(), truncate(o.Reply, 200)); err != nil {
			return err
		}
		if err := tx.SetRecipientStatus(ctx, j.RecipientID, status, w.now(), detail); err != nil {
			return err
		}
		return tx.InsertEvents(ctx, ev)
	}, status, o, keys)
}

func (w *Worker) write(ctx context.Context, j *store.Job, fn func(context.Context, *store.Tx, []byte, *store.Event) error, evType string, o *Outcome, keys *tenant.Keys) {
	var detail []byte
	ev := &store.Event{TenantID: j.TenantID, MessageID: j.MessageID, RecipientID: j.RecipientID, Type: evType, At: w.now(), Sandbox: j.Sandbox}
	if keys != nil {
		b, _ := json.Marshal(o)
		detail = keys.Data.Seal(b, "recipient/"+j.RecipientID+"/detail")
		ev.Data = keys.Data.Seal(b, "event/"+j.RecipientID)
	}
	// The outcome must be recorded even while shutting down.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// The outcome and its audit entry commit together.
	entry := &store.AuditEntry{At: ev.At, TenantID: j.TenantID, Principal: "worker:" + w.cfg.Owner, Action: "delivery." + evType,
		Object: j.RecipientID, Result: evType, Detail: "message " + j.MessageID + ", attempt " + strconv.Itoa(j.Attempts)}
	if err := w.db.Write(wctx, func(ctx context.Context, tx *store.Tx) error {
		if err := fn(ctx, tx, detail, ev); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, entry)
	}); err != nil {
		// The job stays claimed until its next attempt time, then runs again: at worst
		// a duplicate delivery, never a lost one.
		w.log.Error("record delivery outcome", "message", j.MessageID, "recipient", j.RecipientID, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
