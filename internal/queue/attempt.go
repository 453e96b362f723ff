package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/dkimsign"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/secureline"
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
	// UnconfirmedAttempt is an earlier attempt that reached DATA with no outcome
	// recorded (the process died or its database refused the write): the remote
	// server may hold a copy, so this delivery may be a duplicate.
	UnconfirmedAttempt int `json:"unconfirmed_attempt,omitempty"`
	// Recovered: the remote server's acceptance survived a crash only in the local
	// log written the moment it answered; its reply and TLS details were lost.
	Recovered bool           `json:"recovered_after_crash,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
	// logged: the local accept log holds this delivery, so its commit may wait to
	// share a transaction (store.WriteSoon) instead of going ahead of the queue.
	logged bool
}

// StatusSuppressed is the outcome of a delivery the Gate stopped when it was claimed:
// nothing was sent. It is also the event's type.
const StatusSuppressed = "suppressed"

// deliver makes one attempt and records its outcome.
func (w *Worker) deliver(ctx context.Context, j *store.Job) {
	start := w.now()
	keys, err := w.tenants.Keys(ctx, j.TenantID)
	if errors.Is(err, tenant.ErrShredded) {
		w.finish(ctx, j, pipeline.StatusBounced, &Outcome{Attempt: j.Attempts, Error: errShredded.Error()}, nil, nil)
		return
	}
	if err != nil {
		w.retryLater(ctx, j, nil, fmt.Errorf("load tenant key: %w", err), nil)
		return
	}
	release, err := w.reserve(ctx, j)
	if err != nil {
		w.retryLater(ctx, j, keys, err, nil)
		return
	}
	defer release()
	loaded := j.Loaded
	j.Loaded = nil // held by this attempt only: a retry reads the rows again
	if loaded == nil {
		if loaded, err = w.db.ForDelivery(ctx, j.MessageID, j.RecipientID); err != nil {
			w.retryLater(ctx, j, keys, fmt.Errorf("load message: %w", err), nil)
			return
		}
	}
	msg, rcpt, marketing := loaded.Message, loaded.Recipient, loaded.Marketing
	if marketing && w.cfg.Gate != nil && !j.Sandbox {
		// Before anything is opened or sent: a stopped job ends here, once.
		reason, err := w.cfg.Gate.CheckDelivery(ctx, j.TenantID, j.MessageID)
		if err != nil {
			w.retryLater(ctx, j, keys, fmt.Errorf("re-check consent: %w", err), nil)
			return
		}
		if reason != "" {
			w.finish(ctx, j, StatusSuppressed, &Outcome{Attempt: j.Attempts, Stage: "consent", Error: reason}, keys, nil)
			return
		}
	}
	env, raw, err := w.open(ctx, keys, msg)
	if err != nil {
		w.retryLater(ctx, j, keys, err, nil)
		return
	}
	to, err := keys.Data.OpenString(rcpt.Address, "recipient/"+rcpt.ID)
	if err != nil {
		w.retryLater(ctx, j, keys, err, nil)
		return
	}
	st, err := secureline.OpenState(keys, rcpt.ID, rcpt.Security)
	if err != nil {
		w.retryLater(ctx, j, keys, fmt.Errorf("open security state: %w", err), nil)
		return
	}
	if st == nil || st.Plan.Action != policy.ActionSecure {
		// Accepted before planning, or released from quarantine by an administrator:
		// the HIPAA-safe default applies.
		why := "no plan stored; default policy"
		if st != nil {
			why = "released from quarantine; default policy"
		}
		st = secureline.NewState(policy.Plan{Action: policy.ActionSecure, Candidates: policy.DefaultPHIMethods, Reasons: []string{why}})
	}
	if j.Sandbox {
		w.simulate(ctx, j, to, keys, st)
		return
	}
	if j.UnconfirmedAttempt > 0 {
		w.log.Warn("sending again after an attempt with no recorded outcome; the recipient may get a duplicate",
			"message", j.MessageID, "recipient", j.RecipientID, "domain", j.Domain, "attempt", j.Attempts, "unconfirmed_attempt", j.UnconfirmedAttempt)
	}
	// Marked durably before DATA: if this attempt's outcome is lost, the next claim
	// knows whether the message may have left.
	lost := false
	markData := func() error {
		err := w.db.MarkData(ctx, j, w.cfg.Owner)
		lost = errors.Is(err, store.ErrNotFound)
		return err
	}
	rc := w.secure.Recipient(ctx, keys, j.TenantID, to, j.Domain)
	for {
		m, i, why, ok := policy.Choose(st.Plan.Candidates, st.Index, rc.Available)
		st.Reasons = appendReasons(st.Reasons, why...)
		if !ok {
			// Nothing permitted can be used now (a probe failed, a key is missing):
			// wait and try the whole list again rather than send less securely.
			st.Index = 0
			w.retryOutcome(ctx, j, keys, &Outcome{Attempt: j.Attempts, Stage: "policy", Error: "no permitted security method is available: " + strings.Join(why, "; ")}, st)
			return
		}
		st.Index, st.Method = i, m
		if m == policy.Portal && st.PortalExpires.IsZero() {
			st.PortalExpires = w.portalExpiry(ctx, j.TenantID, env)
		}
		prep, err := rc.Prepare(m, w.tracked(ctx, keys, msg, env, j, m, raw), st, env.From)
		if err != nil {
			w.retryOutcome(ctx, j, keys, &Outcome{Attempt: j.Attempts, Stage: "policy", Error: string(m) + ": " + err.Error()}, st)
			return
		}
		if m == policy.Portal && !w.handOffPortal(ctx, j, keys, st, raw, env) {
			return
		}
		sig, dkimNote := w.sign(ctx, msg, prep.Data)
		// The signature goes in front of the message as it is: no signed copy.
		res, err := w.out.Deliver(ctx, delivery.Envelope{From: w.returnPath(keys, j.RecipientID, env.From), To: to, RequireTLS: prep.RequireTLS, BeforeData: markData},
			&signedMessage{Reader: io.MultiReader(strings.NewReader(sig), bytes.NewReader(prep.Data)), n: len(sig) + len(prep.Data)})
		if lost {
			// The lease ran out and another process holds the job (or it was revoked):
			// nothing was sent, and the outcome is the new owner's to record.
			w.log.Warn("delivery abandoned before DATA: job no longer held", "message", j.MessageID, "recipient", j.RecipientID, "attempt", j.Attempts)
			return
		}
		if err == nil {
			if w.obs != nil {
				w.obs.Delivered(w.now().Sub(start))
			}
			ev := prep.Evidence
			ev.TLS, ev.MX = res.TLS, res.MX
			ev.Reasons = append(slices.Clone(st.Plan.Reasons), st.Reasons...)
			st.Evidence = ev
			freeSlot(ctx) // the conversation is over; the rest is bookkeeping
			logged := w.logAccepted(j)
			if w.finish(ctx, j, pipeline.StatusDelivered, &Outcome{MX: res.MX, Reply: res.Reply, TLS: res.TLS, Attempt: j.Attempts, DKIM: dkimNote, Reused: res.Reused, logged: logged}, keys, st) && logged {
				w.accepted.recorded(j.ID)
			}
			return
		}
		var de *delivery.Error
		if errors.As(err, &de) && de.Stage == delivery.StageTLS && de.Temporary && m == policy.TLS && i+1 < len(st.Plan.Candidates) {
			// Verified TLS was promised by the probe but not delivered now: the
			// policy's fallback applies at once, never plaintext.
			st.Reasons = appendReasons(st.Reasons, "tls failed at delivery ("+de.Enhanced+" "+de.Message+"); falling back")
			st.Index = i + 1
			continue
		}
		if errors.As(err, &de) && !de.Temporary {
			if w.obs != nil {
				w.obs.Bounced()
			}
			w.finish(ctx, j, pipeline.StatusBounced, &Outcome{MX: de.MX, Reply: smtpReply(de), Attempt: j.Attempts, Stage: de.Stage, Error: de.Message}, keys, st)
			return
		}
		w.retryLater(ctx, j, keys, err, st)
		return
	}
}

// signedMessage is the signature and the message read one after the other; Len
// lets delivery declare the size (RFC 1870) as it did for one buffer.
type signedMessage struct {
	io.Reader
	n int
}

func (m *signedMessage) Len() int { return m.n }

// appendReasons keeps the reasons list bounded across many attempts.
func appendReasons(list []string, more ...string) []string {
	list = append(list, more...)
	if len(list) > 20 {
		list = list[len(list)-20:]
	}
	return list
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

// reserve waits for room in the memory budget for the job's message before it is
// loaded, so many large deliveries at once queue rather than exhaust memory.
func (w *Worker) reserve(ctx context.Context, j *store.Job) (func(), error) {
	if w.cfg.Memory == nil {
		return func() {}, nil
	}
	size := j.Size // the claim reads it; a job from elsewhere asks
	if size == 0 {
		var err error
		if size, err = w.db.MessageSize(ctx, j.MessageID); err != nil {
			return nil, fmt.Errorf("load message size: %w", err)
		}
	}
	release, err := w.cfg.Memory.Acquire(ctx, 2*int64(size))
	if err != nil {
		return nil, fmt.Errorf("wait for memory: %w", err)
	}
	return release, nil
}

// open reads a loaded message's envelope and content.
func (w *Worker) open(ctx context.Context, keys *tenant.Keys, msg *store.Message) (*pipeline.Envelope, []byte, error) {
	envb, err := keys.Data.Open(msg.Envelope, "message/"+msg.ID+"/envelope")
	if err != nil {
		return nil, nil, fmt.Errorf("open envelope: %w", err)
	}
	var env pipeline.Envelope
	if err := json.Unmarshal(envb, &env); err != nil {
		return nil, nil, err
	}
	raw, err := pipeline.OpenContent(ctx, w.db, keys.Data, msg)
	if err != nil {
		return nil, nil, fmt.Errorf("open content: %w", err)
	}
	msg.Content = nil
	return &env, raw, nil
}

// sign returns the DKIM-Signature header field to put in front of raw, made with the
// tenant's key for the sender domain ("" when it has none).
func (w *Worker) sign(ctx context.Context, msg *store.Message, raw []byte) (string, string) {
	k, key, err := w.signer(ctx, msg.TenantID, msg.FromDomain)
	if err != nil {
		w.log.Error("load dkim key", "message", msg.ID, "err", err)
		return "", "none"
	}
	if k == nil {
		return "", "none"
	}
	note := k.Selector + "._domainkey." + k.Domain
	// Copies of this message with the same bytes share one signature.
	sig, ok := w.signed.get(ctx, w.now(), msg.ID, k.ID+" "+note, raw, func() (string, bool) {
		s := &dkimsign.Signer{Domain: k.Domain, Selector: k.Selector, Key: key}
		release := w.signing.acquire(ctx)
		if release == nil {
			return "", false // shutting down: the delivery that follows fails and is retried
		}
		sig, err := s.SignedHeader(bytes.NewReader(raw))
		release()
		if err != nil {
			w.log.Error("dkim sign", "message", msg.ID, "err", err)
			return "", false
		}
		return sig, true
	})
	if !ok {
		return "", "none"
	}
	return sig, note
}

// retryLater records a temporary failure, or expiry when the next attempt would fall
// after the job's deadline.
func (w *Worker) retryLater(ctx context.Context, j *store.Job, keys *tenant.Keys, cause error, st *secureline.State) {
	o := &Outcome{Attempt: j.Attempts, Error: cause.Error()}
	var de *delivery.Error
	if errors.As(cause, &de) {
		o.MX, o.Reply, o.Stage, o.Error = de.MX, smtpReply(de), de.Stage, de.Message
	}
	w.retryOutcome(ctx, j, keys, o, st)
}

// retryOutcome records a temporary failure described by o.
func (w *Worker) retryOutcome(ctx context.Context, j *store.Job, keys *tenant.Keys, o *Outcome, st *secureline.State) {
	// RFC 5321 4.5.4.1: the delay grows with each attempt; counted from this attempt's start.
	next := j.ClaimedAt.Add(w.cfg.Retry[min(j.Attempts, len(w.cfg.Retry))-1])
	if next.After(j.ExpiresAt) {
		if w.obs != nil {
			w.obs.Expired()
		}
		w.finish(ctx, j, pipeline.StatusExpired, o, keys, st)
		return
	}
	if w.obs != nil {
		w.obs.Deferred()
	}
	o.NextAttemptAt = &next
	w.log.Info("delivery deferred", "message", j.MessageID, "recipient", j.RecipientID, "domain", j.Domain, "attempt", j.Attempts, "next", next, "stage", o.Stage)
	w.write(ctx, j, func(ctx context.Context, tx *store.Tx, detail []byte) error {
		if err := tx.DeferJob(ctx, j, lastError(o.Reply+" "+o.Error), next); err != nil {
			return err
		}
		return w.setRecipient(ctx, tx, j, pipeline.StatusDeferred, detail, st, keys)
	}, "deferred", o, keys, st)
}

// finish retires a job with a final outcome and reports whether it was recorded.
func (w *Worker) finish(ctx context.Context, j *store.Job, status string, o *Outcome, keys *tenant.Keys, st *secureline.State) bool {
	w.log.Info("delivery "+status, "message", j.MessageID, "recipient", j.RecipientID, "domain", j.Domain, "attempt", j.Attempts)
	return w.write(ctx, j, func(ctx context.Context, tx *store.Tx, detail []byte) error {
		if err := tx.RetireJob(ctx, j, status, w.now(), lastError(o.Reply)); err != nil {
			return err
		}
		if err := w.setRecipient(ctx, tx, j, status, detail, st, keys); err != nil {
			return err
		}
		if st != nil && st.PortalID != "" && (status != pipeline.StatusDelivered || st.Method != policy.Portal) {
			// Any portal copy made for an earlier attempt was never announced.
			if err := tx.DropUnsentPortal(ctx, j.RecipientID, w.now()); err != nil {
				return err
			}
		}
		return nil
	}, status, o, keys, st)
}

// loggedOutcomeWait bounds how long the outcome of a delivery the accept log holds
// waits for another write to share its commit: under light load an acceptance or a
// DATA mark comes along within a few milliseconds.
const loggedOutcomeWait = 10 * time.Millisecond

// write records an attempt's outcome: fn's changes, the outcome's event (with the
// security events of a delivery, in one insert) and its audit entry, in one commit.
// fn may run twice (store.Rerunnable): it must change nothing but the transaction.
func (w *Worker) write(ctx context.Context, j *store.Job, fn func(context.Context, *store.Tx, []byte) error, evType string, o *Outcome, keys *tenant.Keys, st *secureline.State) bool {
	freeSlot(ctx)
	o.UnconfirmedAttempt = j.UnconfirmedAttempt
	var detail []byte
	ev := &store.Event{TenantID: j.TenantID, MessageID: j.MessageID, RecipientID: j.RecipientID, Type: evType, At: w.now(), Sandbox: j.Sandbox}
	if keys != nil {
		b, _ := json.Marshal(o)
		detail = keys.Data.Seal(b, "recipient/"+j.RecipientID+"/detail")
		ev.Data = keys.Data.Seal(b, "event/"+j.RecipientID)
	}
	// The outcome and its audit entry commit together.
	entry := &store.AuditEntry{At: ev.At, TenantID: j.TenantID, Principal: "worker:" + w.cfg.Owner, Action: "delivery." + evType,
		Object: j.RecipientID, Result: evType, Detail: "message " + j.MessageID + ", attempt " + strconv.Itoa(j.Attempts)}
	record := func() error {
		// The outcome must be recorded even while shutting down.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		// Ahead of queued writes: the remote server has answered, and until this
		// commits a crash would send the message again — unless the local accept log
		// holds the delivery: then a crash records it from there, and the write waits
		// a moment to share a commit rather than pay for one alone.
		write := w.db.WritePriority
		if o.logged {
			write = func(ctx context.Context, fn func(context.Context, *store.Tx) error) error {
				return w.db.WriteSoon(ctx, loggedOutcomeWait, fn)
			}
		}
		// Rerunnable: fn and this change only the transaction (and set ids and the
		// audit entry's chain fields again when run again).
		return write(store.Rerunnable(wctx), func(ctx context.Context, tx *store.Tx) error {
			if err := fn(ctx, tx, detail); err != nil {
				return err
			}
			events := []*store.Event{ev}
			if st != nil && keys != nil {
				more, err := w.recordSecurity(ctx, tx, j, evType, st, keys, ev.At)
				if err != nil {
					return err
				}
				events = append(events, more...)
			}
			if err := tx.InsertEvents(ctx, events...); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, entry)
		})
	}
	paused := false
	for wait := outcomeRetryMin; ; wait = min(2*wait, outcomeRetryMax) {
		err := record()
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrNotFound) {
			// The job is gone: revoked or dropped while this attempt ran.
			w.log.Warn("delivery outcome not recorded: job no longer queued", "message", j.MessageID, "recipient", j.RecipientID)
			break
		}
		// Kept in memory and retried, with nothing new claimed meanwhile: given up,
		// the job would only be sent again once its lease ends.
		if !paused {
			paused = true
			w.pauseFor(ctx, 1)
		}
		w.log.Error("record delivery outcome; new deliveries wait until it is written", "message", j.MessageID, "recipient", j.RecipientID,
			"outcome", evType, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			// Drain deadline: the job stays claimed and runs again after its lease,
			// its resend flagged as a possible duplicate by the mark made before DATA.
			w.log.Error("delivery outcome not recorded before shutdown; the job is retried after its lease", "message", j.MessageID, "recipient", j.RecipientID)
			w.pauseFor(ctx, -1)
			return false
		case <-time.After(wait):
		}
	}
	if paused {
		w.log.Info("delivery outcome recorded after retries; claiming resumes", "message", j.MessageID, "recipient", j.RecipientID)
		w.pauseFor(ctx, -1)
	}
	return true
}

// How long to wait between attempts to record an outcome the database refused.
const (
	outcomeRetryMin = 100 * time.Millisecond
	outcomeRetryMax = 5 * time.Second
)

// setRecipient records a recipient's status and last outcome and, with a security
// state, the state and (once delivered) the method — one UPDATE.
func (w *Worker) setRecipient(ctx context.Context, tx *store.Tx, j *store.Job, status string, detail []byte, st *secureline.State, keys *tenant.Keys) error {
	if st == nil || keys == nil {
		return tx.SetRecipientStatus(ctx, j.RecipientID, status, w.now(), detail)
	}
	method := ""
	if status == pipeline.StatusDelivered {
		method = string(st.Method)
	}
	return tx.SetRecipientOutcome(ctx, j.RecipientID, status, w.now(), detail, method, st.Seal(keys, j.RecipientID))
}

// recordSecurity, once a copy is delivered, returns the "secured" event with its
// evidence and marks a portal copy's notice delivered (returning its event too).
func (w *Worker) recordSecurity(ctx context.Context, tx *store.Tx, j *store.Job, evType string, st *secureline.State, keys *tenant.Keys, at time.Time) ([]*store.Event, error) {
	if evType != pipeline.StatusDelivered || st.Evidence == nil {
		return nil, nil
	}
	b, _ := json.Marshal(st.Evidence)
	events := []*store.Event{{TenantID: j.TenantID, MessageID: j.MessageID, RecipientID: j.RecipientID, Type: "secured",
		At: at, Sandbox: j.Sandbox, Data: keys.Data.Seal(b, "event/"+j.RecipientID)}}
	if st.Method == policy.Portal && !j.Sandbox {
		// The copy was committed before the notice left (handOffPortal).
		if err := tx.PortalNotified(ctx, st.PortalID, at); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(map[string]any{"portal_message_id": st.PortalID, "expires_at": st.PortalExpires})
		events = append(events, &store.Event{TenantID: j.TenantID, MessageID: j.MessageID, RecipientID: j.RecipientID, Type: "portal.notified",
			At: at, Data: keys.Data.Seal(b, "event/"+j.RecipientID)})
	}
	return events, nil
}

// portalExpiry fixes when a portal copy will expire: the sender's request within the
// tenant's bounds, or the default when the bounds have since narrowed.
func (w *Worker) portalExpiry(ctx context.Context, tenantID string, env *pipeline.Envelope) time.Time {
	var requested time.Duration
	if env.Portal != nil {
		requested = env.Portal.ExpiresIn
	}
	d, err := w.secure.PortalExpiry(ctx, tenantID, requested)
	if err != nil {
		if d, err = w.secure.PortalExpiry(ctx, tenantID, 0); err != nil {
			d = 30 * 24 * time.Hour
		}
	}
	return w.now().Add(d)
}

// truncate cuts s to at most n bytes, never inside a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
