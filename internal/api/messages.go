package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/tenant"
)

// SendRequest is the body of POST /v1/messages.
type SendRequest struct {
	From         string            `json:"from"`
	To           addrList          `json:"to"`
	Cc           addrList          `json:"cc"`
	Bcc          addrList          `json:"bcc"`
	ReplyTo      addrList          `json:"reply_to"`
	Subject      string            `json:"subject"`
	Text         string            `json:"text"`
	HTML         string            `json:"html"`
	Attachments  []AttachmentJSON  `json:"attachments"`
	Headers      []HeaderJSON      `json:"headers"`
	TemplateID   string            `json:"template_id"`
	TemplateData map[string]any    `json:"template_data"`
	Tags         []string          `json:"tags"`
	Campaign     string            `json:"campaign"`
	Metadata     map[string]string `json:"metadata"`
	Security     policy.Flags      `json:"security"`
	Portal       *PortalJSON       `json:"portal"`
	Track        *pipeline.Track   `json:"track"`
}

// AttachmentJSON is one attachment, its content in standard base64.
type AttachmentJSON struct {
	Filename    string        `json:"filename"`
	ContentType string        `json:"content_type"`
	Content     base64Content `json:"content"`
	ContentID   string        `json:"content_id"`
	// Part names the multipart/form-data file part holding the content, instead of
	// Content.
	Part string `json:"part"`
}

// base64Content is decoded straight from the request's bytes, so a large file is held
// once, decoded, rather than also as a Go string of its base64. Bad base64 is not a
// decoding error: draft reports it with the attachment's index.
type base64Content struct {
	data []byte
	bad  bool
}

func (c *base64Content) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		*c = base64Content{}
		return nil
	}
	if len(raw) < 2 || raw[0] != '"' {
		return &json.UnmarshalTypeError{Value: jsonKind(raw), Type: reflect.TypeFor[string]()}
	}
	text := raw[1 : len(raw)-1]
	if bytes.IndexByte(text, '\\') >= 0 {
		// JSON escapes ("\/" for "/", "\n" between lines): unquote first.
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		text = []byte(s)
	}
	c.data = make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(c.data, text)
	c.data, c.bad = c.data[:n], err != nil
	if c.bad {
		c.data = nil
	}
	return nil
}

func jsonKind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// HeaderJSON is one custom header.
type HeaderJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// BatchRequest is the body of POST /v1/messages/batch.
type BatchRequest struct {
	Messages []json.RawMessage `json:"messages"`
}

// BatchResult is one message's outcome in a batch.
type BatchResult struct {
	Index  int              `json:"index"`
	Status int              `json:"status"`
	Result *pipeline.Result `json:"result,omitempty"`
	Error  *Problem         `json:"error,omitempty"`
}

const maxBatch = 500

// draft turns a request into a message draft, collecting every field problem.
func (req *SendRequest) draft() (*message.Draft, []FieldProblem) {
	var fp []FieldProblem
	d := &message.Draft{Subject: req.Subject, Text: req.Text, HTML: req.HTML}
	if req.From == "" {
		fp = append(fp, FieldProblem{"from", "required"})
	} else if a, err := message.ParseAddress(req.From); err != nil {
		fp = append(fp, FieldProblem{"from", err.Error()})
	} else {
		d.From = a
	}
	parse := func(field string, in addrList) []message.Address {
		var out []message.Address
		for i, s := range in {
			a, err := message.ParseAddress(s)
			if err != nil {
				fp = append(fp, FieldProblem{fmt.Sprintf("%s[%d]", field, i), err.Error()})
				continue
			}
			out = append(out, a)
		}
		return out
	}
	d.To, d.Cc, d.Bcc, d.ReplyTo = parse("to", req.To), parse("cc", req.Cc), parse("bcc", req.Bcc), parse("reply_to", req.ReplyTo)
	for i, a := range req.Attachments {
		if a.Content.bad {
			fp = append(fp, FieldProblem{fmt.Sprintf("attachments[%d].content", i), "must be standard base64"})
			continue
		}
		d.Attachments = append(d.Attachments, message.Attachment{Filename: a.Filename, ContentType: a.ContentType, Content: a.Content.data, ContentID: a.ContentID, Inline: a.ContentID != ""})
	}
	for _, h := range req.Headers {
		d.Headers = append(d.Headers, message.Header{Name: h.Name, Value: h.Value})
	}
	return d, fp
}

// submission turns a decoded request into a pipeline submission; sum is the hash of
// the request as sent, for Idempotency-Key conflicts.
func (s *Server) submission(r *http.Request, p *tenant.Principal, req *SendRequest, sum []byte, idemKey string) (*pipeline.Submission, error) {
	d, fp := req.draft()
	if len(fp) > 0 {
		return nil, problem(400, "Invalid message", fp[0].Field+": "+fp[0].Detail, fp...)
	}
	var pr pipeline.PortalRequest
	if req.Portal != nil {
		pr.Passphrase = req.Portal.Passphrase
		if req.Portal.ExpiresIn != "" {
			d, err := duration.ParsePositive(req.Portal.ExpiresIn)
			if err != nil {
				return nil, problem(400, "Invalid message", "portal.expires_in: want a positive duration such as 3d or 72h", FieldProblem{"portal.expires_in", "want a positive duration such as 3d or 72h"})
			}
			pr.ExpiresIn = d
		}
	}
	via := "HTTP"
	if r.TLS != nil {
		via = "HTTPS"
	}
	return &pipeline.Submission{Principal: p, Draft: d, TemplateID: req.TemplateID, TemplateData: req.TemplateData,
		Tags: req.Tags, Campaign: req.Campaign, Metadata: req.Metadata, Security: req.Security, IdempotencyKey: idemKey, RequestHash: sum,
		Via: via, ClientAddr: clientIP(r), TLS: r.TLS, Portal: pr, Track: req.Track}, nil
}

func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > 255 || strings.ContainsAny(k, "\r\n\x00") {
		return "", problem(400, "Invalid Idempotency-Key", "an Idempotency-Key is at most 255 printable characters")
	}
	return k, nil
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var req SendRequest
	var files map[string]*filePart
	var sum []byte
	if isMultipart(r) {
		if files, sum, err = readMultipart(r, &req); err != nil {
			return err
		}
	} else {
		body, err := readSized(r)
		if err != nil {
			return err
		}
		if err := decodeLargeJSON(body, &req); err != nil {
			return err
		}
		h := sha256.Sum256(body)
		sum = h[:]
	}
	if fp := attachFiles(&req, files); len(fp) > 0 {
		return problem(400, "Invalid message", fp[0].Field+": "+fp[0].Detail, fp...)
	}
	sub, err := s.submission(r, p, &req, sum, key)
	if err != nil {
		return err
	}
	return s.submit(w, r, p, sub)
}

// submit runs a submission through the pipeline and answers 202, the audit entry
// committed with the message.
func (s *Server) submit(w http.ResponseWriter, r *http.Request, p *tenant.Principal, sub *pipeline.Submission) error {
	var committed func()
	sub.Audit, committed = s.inlineAudit(r, p, "POST /v1/messages", http.StatusAccepted)
	res, err := s.Pipeline.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	// An idempotent replay stores nothing and so appended no entry: wrap records it.
	if sub.Audit != nil && sub.Audit.Seq != 0 {
		committed()
	}
	if !res.HandedOff {
		s.OnAccepted()
	}
	w.Header().Set("Location", "/v1/messages/"+res.MessageID)
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

func (s *Server) sendBatch(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	body, err := readSized(r)
	if err != nil {
		return err
	}
	var req BatchRequest
	if err := decodeLargeJSON(body, &req); err != nil {
		return err
	}
	if len(req.Messages) == 0 {
		return badField("messages", "at least one message")
	}
	if len(req.Messages) > maxBatch {
		return badField("messages", "at most %d messages per batch, got %d", maxBatch, len(req.Messages))
	}
	results := make([]BatchResult, len(req.Messages))
	// Submit concurrently so the messages share group commits; bounded so one batch
	// cannot take every database slot.
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, raw := range req.Messages {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = s.batchOne(r, p, i, raw, key)
		}()
	}
	wg.Wait()
	for _, res := range results {
		if res.Result != nil && !res.Result.HandedOff {
			s.OnAccepted() // once: it wakes the worker to claim them all
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

func (s *Server) batchOne(r *http.Request, p *tenant.Principal, i int, raw []byte, key string) BatchResult {
	k := ""
	if key != "" {
		// NUL cannot occur in a header-supplied key, so a batch's per-message keys
		// never collide with a single send's key.
		k = fmt.Sprintf("batch\x00%s\x00%d", key, i)
	}
	res, err := func() (*pipeline.Result, error) {
		var req SendRequest
		if err := decodeLargeJSON(raw, &req); err != nil {
			return nil, err
		}
		if fp := attachFiles(&req, nil); len(fp) > 0 {
			return nil, problem(400, "Invalid message", fp[0].Field+": "+fp[0].Detail, fp...)
		}
		sum := sha256.Sum256(raw)
		sub, err := s.submission(r, p, &req, sum[:], k)
		if err != nil {
			return nil, err
		}
		return s.Pipeline.Submit(r.Context(), sub)
	}()
	if err != nil {
		pr, internal := toProblem(err)
		if internal {
			s.Log.Error("batch message failed", "index", i, "err", err)
		}
		// Field paths are relative to the message; make them point into the batch.
		cp := *pr
		cp.Errors = nil
		for _, f := range pr.Errors {
			cp.Errors = append(cp.Errors, FieldProblem{Field: fmt.Sprintf("messages[%d].%s", i, f.Field), Detail: f.Detail})
		}
		return BatchResult{Index: i, Status: pr.Status, Error: &cp}
	}
	return BatchResult{Index: i, Status: http.StatusAccepted, Result: res}
}

// MessageView is what GET /v1/messages/{id} shows.
type MessageView struct {
	ID          string            `json:"id"`
	CreatedAt   time.Time         `json:"created_at"`
	From        string            `json:"from"`
	Subject     string            `json:"subject"`
	Tags        []string          `json:"tags"`
	Campaign    string            `json:"campaign,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Sandbox     bool              `json:"sandbox"`
	Size        int               `json:"size"`
	DLP         json.RawMessage   `json:"dlp"` // categories and counts found at acceptance
	Quarantined bool              `json:"quarantined"`
	Recipients  []RecipientView   `json:"recipients"`
}

// RecipientView is one recipient's status.
type RecipientView struct {
	ID        string          `json:"id"`
	Email     string          `json:"email"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	UpdatedAt time.Time       `json:"updated_at"`
	Detail    json.RawMessage `json:"detail,omitempty"`
	// Security is how this copy is (to be) secured: the method, the policy's reasons
	// and, once delivered, the evidence.
	Security *SecurityView `json:"security,omitempty"`
}

// SecurityView is a recipient's security decision.
type SecurityView struct {
	Method     policy.Method        `json:"method,omitempty"`
	Candidates []policy.Method      `json:"candidates"`
	Reasons    []string             `json:"reasons"`
	Evidence   *secureline.Evidence `json:"evidence,omitempty"`
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, p *tenant.Principal) error {
	m, err := s.DB.Message(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	keys, err := s.Tenants.Keys(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	envb, err := keys.Data.Open(m.Envelope, "message/"+m.ID+"/envelope")
	if err != nil {
		return err
	}
	var env pipeline.Envelope
	if err := json.Unmarshal(envb, &env); err != nil {
		return err
	}
	// Labels live sealed in the envelope; rows stored before that kept them in the clear
	// in the row, where they still are.
	tags, campaign := env.Tags, env.Campaign
	if len(tags) == 0 {
		tags = m.Tags
	}
	if campaign == "" {
		campaign = m.Campaign
	}
	v := MessageView{ID: m.ID, CreatedAt: m.CreatedAt, From: env.From, Subject: env.Subject, Tags: tags, Campaign: campaign,
		Metadata: env.Metadata, Sandbox: m.Sandbox, Size: m.Size, DLP: m.DLP, Quarantined: m.Quarantined, Recipients: []RecipientView{}}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	rcpts, err := s.DB.Recipients(r.Context(), m.ID)
	if err != nil {
		return err
	}
	for _, rc := range rcpts {
		addr, err := keys.Data.OpenString(rc.Address, "recipient/"+rc.ID)
		if err != nil {
			return err
		}
		rv := RecipientView{ID: rc.ID, Email: addr, Type: rc.Kind, Status: rc.Status, UpdatedAt: rc.UpdatedAt}
		if len(rc.Detail) > 0 {
			if b, err := keys.Data.Open(rc.Detail, "recipient/"+rc.ID+"/detail"); err == nil {
				rv.Detail = b
			}
		}
		if st, err := secureline.OpenState(keys, rc.ID, rc.Security); err == nil && st != nil {
			rv.Security = &SecurityView{Method: policy.Method(rc.Method), Candidates: st.Plan.Candidates, Reasons: append(st.Plan.Reasons, st.Reasons...), Evidence: st.Evidence}
			if rv.Security.Candidates == nil {
				rv.Security.Candidates = []policy.Method{}
			}
		}
		v.Recipients = append(v.Recipients, rv)
	}
	writeJSON(w, 200, v)
	return nil
}
