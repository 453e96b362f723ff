// Package pipeline is the path of one message from "accepted" to "stored and queued":
// validate, render its template, build the MIME, seal it and enqueue one delivery per
// recipient in a single transaction. The REST API and (later) the SMTP gateway share it.
package pipeline

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/dlp"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/report"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
	"github.com/sealpost/sealpost/internal/tlssec"
)

// collectAbove is the built size from which Submit collects garbage once the message
// is built.
const collectAbove = 8 << 20

// Config tunes the pipeline.
type Config struct {
	Hostname string         // our name in the Received header
	Limits   message.Limits // size and count limits
	Expire   time.Duration  // how long deliveries are retried before they expire
	// Accepted, if set, is told how many recipients each committed message has.
	Accepted func(recipients int)
	// IgnoreLocalPartCase merges recipients whose local parts differ only in case.
	IgnoreLocalPartCase bool
	// Journal, if set, copies every accepted message into the archive in its transaction.
	Journal Journal
}

// Pipeline accepts messages.
type Pipeline struct {
	db      *store.DB
	tenants *tenant.Service
	secure  *secureline.Service
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	handoff Handoff // nil: every job waits for a claim
}

// New builds a pipeline.
func New(db *store.DB, tenants *tenant.Service, secure *secureline.Service, cfg Config, log *slog.Logger) *Pipeline {
	if cfg.Expire <= 0 {
		cfg.Expire = 5 * 24 * time.Hour
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	return &Pipeline{db: db, tenants: tenants, secure: secure, cfg: cfg, log: log, now: time.Now}
}

// Submission is one message as a face received it.
type Submission struct {
	Principal *tenant.Principal
	// Draft is the message. Submit drops its attachment contents once it has built
	// the MIME, so a large attachment is not held twice while it is sealed and stored.
	Draft          *message.Draft
	TemplateID     string
	TemplateData   map[string]any
	Tags           []string
	Campaign       string
	Metadata       map[string]string
	IdempotencyKey string
	RequestHash    []byte // hash of the request body, for Idempotency-Key conflicts
	Security       policy.Flags
	Via            string // "HTTP", "HTTPS", "ESMTPSA", …; "" means HTTPS when TLS is set, else HTTP
	ClientAddr     string
	TLS            *tls.ConnectionState
	// Audit, if set, is appended in the same transaction as the message, with the new
	// message id as its object: one commit instead of two for every send.
	Audit *store.AuditEntry
	// Portal is what the sender asks of portal copies: expiry and passphrase.
	Portal PortalRequest
	// System marks a message Sealpost itself sends that carries no PHI by construction
	// (a portal access code): it skips DLP and policy and may travel without verified
	// TLS, which is what lets a recipient without it receive the code at all.
	System bool
	// Also, if set, runs in the message's transaction with its id: records that must
	// exist exactly when the message does (a portal reply's link to its thread).
	Also func(ctx context.Context, tx *store.Tx, messageID string) error
	// Track asks for open and click tracking of the copies the policy allows it in.
	Track *Track
	// trackSource says where Track came from when not the message: "template".
	trackSource string
	// Envelope, when set, is the SMTP envelope's recipients: only they get a delivery.
	// A header address outside it (Google's gateway, for one, relays only the external
	// recipients of a message whose To lists everyone) stays in the headers unsent.
	Envelope []string
}

// Track is what to track in a message's copies.
type Track struct {
	Opens  bool `json:"opens"`
	Clicks bool `json:"clicks"`
}

// PortalRequest is a sender's choice for portal copies of one message.
type PortalRequest struct {
	ExpiresIn  time.Duration // 0: the tenant's default
	Passphrase string        // "": recipients confirm their address with an emailed code
}

// PortalOptions is what the envelope keeps of a PortalRequest.
type PortalOptions struct {
	ExpiresIn      time.Duration `json:"expires_in,omitempty"`
	PassphraseHash []byte        `json:"passphrase_hash,omitempty"`
}

// Result is what an accepted message answers.
type Result struct {
	MessageID  string            `json:"id"`
	Status     string            `json:"status"` // accepted, or quarantined by policy
	Recipients []RecipientResult `json:"recipients"`
	DLP        []dlp.Finding     `json:"dlp"` // categories and counts, never the matched text
	// HandedOff says every delivery went to this process's worker with the commit:
	// there is nothing for it to claim, so the face need not wake it.
	HandedOff bool `json:"-"`
}

// RecipientResult names one recipient's delivery.
type RecipientResult struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Kind   string `json:"type"`
	Status string `json:"status"`
}

// Error is a refusal the client can act on; Fields point into the request.
type Error struct {
	Status int
	Title  string
	Detail string
	Fields []*message.FieldError
}

func (e *Error) Error() string { return e.Detail }

// ErrIdempotencyConflict: the key was used before with a different request body.
var ErrIdempotencyConflict = &Error{Status: 409, Title: "Idempotency key reused", Detail: "this Idempotency-Key was already used with a different request body"}

// Recipient statuses.
const (
	StatusQueued    = "queued"
	StatusDeferred  = "deferred"
	StatusDelivered = "delivered"
	StatusBounced   = "bounced"
	StatusExpired   = "expired"
	StatusHeld      = "quarantined"
)

// Envelope is the sealed part of a message row.
type Envelope struct {
	From      string            `json:"from"`
	Subject   string            `json:"subject"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	MessageID string            `json:"message_id"`
	Security  policy.Flags      `json:"security,omitzero"`
	Portal    *PortalOptions    `json:"portal,omitempty"`
	// Tags and Campaign are the caller's labels. They may hold anything a caller
	// types, PHI included, so they live here, sealed; the message row keeps only
	// keyed hashes of them (LabelHash) for grouping and filtering.
	Tags     []string `json:"tags,omitempty"`
	Campaign string   `json:"campaign,omitempty"`
	Track    *Track   `json:"track,omitempty"`
	// TrackPHI is the policy's word, when the message was accepted, on tracking a
	// message with PHI findings: delivery follows the rule the preview showed.
	TrackPHI bool `json:"track_phi,omitempty"`
	// ReplyTo is the first Reply-To address: where a portal reply goes when the
	// sender is an address that cannot receive (noreply@…).
	ReplyTo string `json:"reply_to,omitempty"`
}

// LabelHash is the keyed hash stored in place of a tag or campaign name: equal labels
// of one tenant hash alike, so messages can be grouped and filtered by them, while the
// database holds nothing readable and two tenants' hashes of one label differ.
func LabelHash(keys *tenant.Keys, kind, label string) string {
	return hex.EncodeToString(keys.Hash("label/"+kind, label)[:16])
}

// Submit validates, builds, seals and stores a message with its delivery jobs. When it
// returns a Result the message is durably committed.
func (p *Pipeline) Submit(ctx context.Context, sub *Submission) (*Result, error) {
	keys, err := p.check(ctx, sub)
	if err != nil {
		return nil, err
	}
	d := sub.Draft
	dec, findings, err := p.decide(ctx, sub)
	if err != nil {
		return nil, err
	}
	if dec.Action == policy.ActionBlock {
		return nil, blocked(dec)
	}
	now := p.now()
	id := tenant.NewID("msg")
	if d.MessageID == "" {
		d.MessageID = id + "@" + d.From.Domain()
	}
	if d.Date.IsZero() {
		d.Date = now
	}
	// The message is built straight into sealed pieces: its plaintext is never held
	// whole, and the database handles a piece at a time. The draft's limits count
	// decoded bytes; base64 (4/3 plus line ends) and quoted-printable make the built
	// message larger, so it gets twice the room.
	limit := 2 * p.cfg.Limits.MaxTotalBytes
	cw := newContentWriter(keys.Data, id, limit)
	cw.expect(builtSize(d))
	io.WriteString(cw, p.receivedHeader(sub, id, now))
	if err := message.Write(cw, d); errors.Is(err, errTooLarge) {
		return nil, &Error{Status: 413, Title: "Message too large", Detail: fmt.Sprintf("the built message is over the limit of %d bytes", limit)}
	} else if err != nil {
		return nil, &Error{Status: 422, Title: "Message cannot be built", Detail: err.Error()}
	}
	size := cw.n
	content, chunks := cw.finish()
	journal, err := p.journal(keys, sub, id, now, size, content, chunks)
	if err != nil {
		return nil, err
	}
	// Everything else reads the built message: let the decoded attachments go.
	for i := range d.Attachments {
		d.Attachments[i].Content = nil
	}
	if size >= collectAbove {
		// The collector waits for the heap to double before it looks again, and a
		// large message's request body and attachments are garbage now; the database
		// driver's copies of the pieces would come on top. Collecting here keeps the
		// peak near twice the message instead of four times. Large buffers hold no
		// pointers, so this costs little beside building the message.
		runtime.GC()
	}
	envelope := Envelope{From: d.From.Addr, Subject: d.Subject, Metadata: sub.Metadata, MessageID: d.MessageID, Security: sub.Security,
		Tags: sub.Tags, Campaign: sub.Campaign, Track: effectiveTrack(sub.Track, dec.Tracking), TrackPHI: dec.Tracking.AllowsPHI()}
	if len(d.ReplyTo) > 0 {
		envelope.ReplyTo = d.ReplyTo[0].Addr
	}
	var tagHashes []string
	for _, t := range sub.Tags {
		tagHashes = append(tagHashes, LabelHash(keys, "tag", t))
	}
	campaignHash := ""
	if sub.Campaign != "" {
		campaignHash = LabelHash(keys, "campaign", sub.Campaign)
	}
	if sub.Portal != (PortalRequest{}) {
		envelope.Portal = &PortalOptions{ExpiresIn: sub.Portal.ExpiresIn}
		if sub.Portal.Passphrase != "" {
			envelope.Portal.PassphraseHash = secureline.HashPassphrase(sub.Portal.Passphrase)
		}
	}
	env, _ := json.Marshal(envelope)
	dlpJSON, _ := json.Marshal(findings)
	held := dec.Action == policy.ActionQuarantine
	m := &store.Message{
		ID: id, TenantID: sub.Principal.TenantID, CreatedAt: now, FromDomain: d.From.Domain(),
		Sandbox: sub.Principal.Sandbox, Campaign: campaignHash, Tags: tagHashes, Size: size,
		Envelope: keys.Data.Seal(env, "message/"+id+"/envelope"),
		Content:  content, Chunks: chunks,
		DLP: dlpJSON, Quarantined: held,
	}
	// The groups its statistics are split by: keyed hashes, with sealed labels.
	m.Report = report.MessageDims(keys, report.Labels{From: d.From.Addr, Subject: d.Subject, Metadata: sub.Metadata,
		Campaign: sub.Campaign, CampaignHash: campaignHash, Tags: sub.Tags, TagHashes: tagHashes})
	res := &Result{MessageID: id, Status: "accepted", DLP: findings}
	status, firstEvents := StatusQueued, []string{"accepted", "queued"}
	if held {
		res.Status, status, firstEvents = StatusHeld, StatusHeld, []string{"accepted", "quarantined"}
	}
	var rcpts []*store.Recipient
	var jobs []*store.Job
	var events []*store.Event
	var deliverTo map[string]bool
	if sub.Envelope != nil {
		deliverTo = map[string]bool{}
		for _, a := range sub.Envelope {
			deliverTo[message.RecipientKey(a, p.cfg.IgnoreLocalPartCase)] = true
		}
	}
	add := func(kind string, list []message.Address) {
		for _, a := range list {
			if deliverTo != nil && !deliverTo[message.RecipientKey(a.Addr, p.cfg.IgnoreLocalPartCase)] {
				continue
			}
			r := &store.Recipient{ID: tenant.NewID("rcp"), MessageID: id, TenantID: m.TenantID, Kind: kind,
				AddressHash: keys.AddressHash(a.Addr), Domain: a.Domain(), Status: status, UpdatedAt: now}
			r.Address = keys.Data.SealString(a.Addr, "recipient/"+r.ID)
			r.Security = secureline.NewState(*dec.Plans[a.Domain()]).Seal(keys, r.ID)
			rcpts = append(rcpts, r)
			jobs = append(jobs, &store.Job{RecipientID: r.ID, MessageID: id, TenantID: m.TenantID, Domain: r.Domain,
				Sandbox: m.Sandbox, CreatedAt: now, ExpiresAt: now.Add(p.cfg.Expire), NextAttemptAt: now})
			for _, typ := range firstEvents {
				events = append(events, &store.Event{TenantID: m.TenantID, MessageID: id, RecipientID: r.ID,
					Type: typ, At: now, Sandbox: m.Sandbox})
			}
			res.Recipients = append(res.Recipients, RecipientResult{ID: r.ID, Email: a.Addr, Kind: kind, Status: status})
		}
	}
	add("to", d.To)
	add("cc", d.Cc)
	add("bcc", d.Bcc)

	var keyHash []byte
	var remembered []byte
	if sub.IdempotencyKey != "" {
		keyHash = keys.Hash("idempotency", sub.IdempotencyKey)
		body, _ := json.Marshal(res)
		remembered = keys.Data.Seal(body, "idempotency/"+sub.Principal.TenantID)
	}
	var replay *store.Idempotency
	ho := p.reserve(ctx, sub, held, size, jobs, now)
	// The write below changes only the transaction, sets the same fields again when
	// run again (the archive entry sealed anew, the events' ids) and starts by
	// forgetting a replay: it may run twice (store.Rerunnable). What a caller's Also
	// does is not known here.
	wctx := ctx
	if sub.Also == nil {
		wctx = store.Rerunnable(ctx)
	}
	err = p.db.Write(wctx, func(ctx context.Context, tx *store.Tx) error {
		replay = nil
		if keyHash != nil {
			prev, err := tx.PutIdempotency(ctx, m.TenantID, keyHash, &store.Idempotency{RequestHash: sub.RequestHash, Status: 202, Response: remembered}, now)
			if err != nil {
				return err
			}
			if prev != nil {
				replay = prev
				return nil
			}
		}
		// The archive entry first: on PostgreSQL it then goes in with the message's
		// own statement.
		if err := journal.insert(ctx, tx); err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, m, rcpts, jobs, events); err != nil {
			return err
		}
		if sub.Also != nil {
			if err := sub.Also(ctx, tx, id); err != nil {
				return err
			}
		}
		if sub.Audit != nil {
			sub.Audit.Object = id
			return tx.AppendAudit(ctx, sub.Audit)
		}
		return nil
	})
	if err != nil || replay != nil {
		ho.cancel()
	}
	if err != nil {
		return nil, err
	}
	if replay != nil {
		return p.replay(keys, sub, replay)
	}
	ho.adopt(m, rcpts, now)
	res.HandedOff = ho != nil
	if p.cfg.Accepted != nil {
		p.cfg.Accepted(len(rcpts))
	}
	p.log.Info("message accepted", "message", id, "recipients", len(rcpts), "bytes", size, "sandbox", m.Sandbox)
	return res, nil
}

// check renders the template and validates everything a send or a preview must pass:
// the draft, tags and metadata, and that the sender domain is the tenant's.
func (p *Pipeline) check(ctx context.Context, sub *Submission) (*tenant.Keys, error) {
	keys, err := p.tenants.Keys(ctx, sub.Principal.TenantID)
	if err != nil {
		return nil, err
	}
	if err := p.render(ctx, keys, sub); err != nil {
		return nil, err
	}
	d := sub.Draft
	if fe := d.Validate(p.cfg.Limits); len(fe) > 0 {
		return nil, fieldErrors(fe)
	}
	if fe := validateExtras(sub); len(fe) > 0 {
		return nil, fieldErrors(fe)
	}
	// After validation, so problems name the fields as the caller sent them: an address
	// listed twice gets one delivery and appears once in the headers.
	d.MergeRecipients(p.cfg.IgnoreLocalPartCase)
	ok, err := p.tenants.SenderAllowed(ctx, sub.Principal.TenantID, d.From.Domain())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Status: 422, Title: "Sender domain not verified", Detail: "the from address's domain is not a verified domain of this account",
			Fields: []*message.FieldError{{Field: "from", Detail: "domain is not a verified sender domain of this account", Status: 422}}}
	}
	return keys, nil
}

func (p *Pipeline) replay(keys *tenant.Keys, sub *Submission, prev *store.Idempotency) (*Result, error) {
	if !bytes.Equal(prev.RequestHash, sub.RequestHash) {
		return nil, ErrIdempotencyConflict
	}
	body, err := keys.Data.Open(prev.Response, "idempotency/"+sub.Principal.TenantID)
	if err != nil {
		return nil, err
	}
	var res Result
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// receivedHeader records how we received the message (RFC 5321 4.4), with TLS in the
// form Postfix made common, so header analysers can tell the hop was encrypted.
func (p *Pipeline) receivedHeader(sub *Submission, id string, now time.Time) string {
	via := sub.Via
	if via == "" {
		// Only what this server saw: a request that reached us in the clear (perhaps
		// from a TLS front end) is HTTP, whatever the browser's address bar said.
		via = "HTTP"
		if sub.TLS != nil {
			via = "HTTPS"
		}
	}
	from := "[" + strings.Trim(sub.ClientAddr, "[]") + "]"
	if sub.ClientAddr == "" {
		from = "localhost"
	}
	tlsNote := ""
	if sub.TLS != nil {
		tlsNote = fmt.Sprintf("\r\n\t(using %s with cipher %s)", tlssec.VersionName(sub.TLS.Version), tls.CipherSuiteName(sub.TLS.CipherSuite))
	}
	return fmt.Sprintf("Received: from %s\r\n\tby %s (Sealpost) with %s id %s%s;\r\n\t%s\r\n",
		from, p.cfg.Hostname, via, id, tlsNote, now.UTC().Format(time.RFC1123Z))
}

func fieldErrors(fe []*message.FieldError) *Error {
	status := 400
	for _, f := range fe {
		if f.Status > status {
			status = f.Status
		}
	}
	if status == 0 {
		status = 400
	}
	return &Error{Status: status, Title: "Invalid message", Detail: fe[0].Field + ": " + fe[0].Detail, Fields: fe}
}

// builtSize estimates the size of d once built: headers, bodies in quoted-printable
// (a little larger), attachments in base64 (4/3 and line ends) and part headers.
func builtSize(d *message.Draft) int {
	n := 2048 + len(d.Subject) + 64*(len(d.To)+len(d.Cc)+len(d.Headers))
	n += len(d.Text) + len(d.Text)/16 + len(d.HTML) + len(d.HTML)/16
	for _, a := range d.Attachments {
		n += 512 + len(a.Content)*4/3 + len(a.Content)/38
	}
	return n
}
