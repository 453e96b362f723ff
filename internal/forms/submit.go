package forms

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Hosted is a form as its page serves it.
type Hosted struct {
	Form *store.Form
	Def  *Definition
	Keys *tenant.Keys
}

// ByToken finds the form a hosted page's URL names.
func (s *Service) ByToken(ctx context.Context, token string) (*Hosted, error) {
	if len(token) < 20 || len(token) > 100 {
		return nil, store.ErrNotFound
	}
	f, err := s.db.FormByToken(ctx, TokenHash(token))
	if err != nil {
		return nil, err
	}
	keys, err := s.tenants.Keys(ctx, f.TenantID)
	if err != nil {
		return nil, err
	}
	d, err := openDefinition(keys, f)
	if err != nil {
		return nil, err
	}
	return &Hosted{Form: f, Def: d, Keys: keys}, nil
}

// OrgName is how the tenant is named on its form pages.
func (s *Service) OrgName(ctx context.Context, tenantID string) (string, error) {
	t, err := s.tenants.Tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	return t.Name, nil
}

// File is one uploaded file, held in memory only.
type File struct {
	Name, ContentType string
	Content           []byte
}

// Input is a submission as the page received it.
type Input struct {
	Values     map[string]string // by field name; checkboxes "on" when ticked
	Files      map[string]*File  // by field name
	Copy       bool              // the submitter asked for a copy through the portal
	Consent    bool              // the consent box was ticked
	ClientAddr string
	TLS        *tls.ConnectionState
}

// Value is one answered field, as delivered and stored.
type Value struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Value string `json:"value,omitempty"`
	// A file's name, type, size and SHA-256; its bytes travel in the message.
	File *FileNote `json:"file,omitempty"`
}

// FileNote describes an uploaded file.
type FileNote struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// Receipt is what an accepted submission answers.
type Receipt struct {
	SubmissionID string
	MessageID    string
	CopySent     bool
	ConsentID    string
}

var (
	phoneRE = regexp.MustCompile(`^\+?[0-9 ().\-/]{5,30}$`)
)

// Check validates a submission against the form, naming each field at fault by its
// name. It is the one rule for every face that accepts submissions.
func (d *Definition) Check(in *Input) []*FieldError {
	var fe []*FieldError
	bad := func(name, detail string) {
		fe = append(fe, &FieldError{Field: name, Detail: detail, Status: 422})
	}
	for _, f := range d.Fields {
		if f.Type == TypeFile {
			file := in.Files[f.Name]
			if file == nil || len(file.Content) == 0 {
				if f.Required {
					bad(f.Name, "Choose a file for "+f.Label+".")
				}
				continue
			}
			if int64(len(file.Content)) > f.MaxBytes {
				bad(f.Name, fmt.Sprintf("The file is too large: at most %s.", humanBytes(f.MaxBytes)))
			} else if !accepts(f.Accept, file) {
				bad(f.Name, "This type of file is not accepted. Accepted: "+strings.Join(f.Accept, ", ")+".")
			}
			continue
		}
		v := strings.TrimSpace(in.Values[f.Name])
		if v == "" {
			if f.Required {
				if f.Type == TypeCheckbox {
					bad(f.Name, "Tick "+f.Label+" to continue.")
				} else {
					bad(f.Name, "Enter "+f.Label+".")
				}
			}
			continue
		}
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			bad(f.Name, "Use plain text.")
			continue
		}
		if utf8.RuneCountInString(v) > f.MaxLength {
			bad(f.Name, fmt.Sprintf("Use at most %d characters.", f.MaxLength))
			continue
		}
		if f.Type != TypeLongText && strings.ContainsAny(v, "\r\n") {
			bad(f.Name, "Use one line.")
			continue
		}
		switch f.Type {
		case TypeEmail:
			if _, err := parseAddr(v); err != nil {
				bad(f.Name, "Enter an email address like name@example.com.")
			}
		case TypePhone:
			if !phoneRE.MatchString(v) || digits(v) < 5 {
				bad(f.Name, "Enter a phone number using digits, spaces and + ( ) - only.")
			}
		case TypeDate:
			if _, err := time.Parse("2006-01-02", v); err != nil {
				bad(f.Name, "Enter a date as year-month-day, like 1980-04-23.")
			}
		case TypeChoice:
			if !slices.Contains(f.Options, v) {
				bad(f.Name, "Choose one of the options.")
			}
		case TypeCheckbox:
			if v != "on" && v != "yes" && v != "true" {
				bad(f.Name, "Tick the box or leave it empty.")
			}
		}
	}
	if d.SubmitterCopy != "" && in.Copy && strings.TrimSpace(in.Values[d.SubmitterCopy]) == "" {
		bad(d.SubmitterCopy, "Enter your email address to receive a copy.")
	}
	if d.Consent != nil && in.Consent && strings.TrimSpace(in.Values[d.Consent.EmailField]) == "" {
		bad(d.Consent.EmailField, "Enter your email address to give this authorisation.")
	}
	return fe
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func accepts(accept []string, f *File) bool {
	if len(accept) == 0 {
		return true
	}
	ct, _, err := mime.ParseMediaType(f.ContentType)
	if err != nil {
		return false
	}
	for _, a := range accept {
		if a == ct || (strings.HasSuffix(a, "/*") && strings.HasPrefix(ct, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func parseAddr(s string) (message.Address, error) { return message.ParseAddress(s) }

// values lists the answered fields in the form's order.
func (d *Definition) values(in *Input) []Value {
	var out []Value
	for _, f := range d.Fields {
		v := Value{Name: f.Name, Label: f.Label}
		if f.Type == TypeFile {
			file := in.Files[f.Name]
			if file == nil || len(file.Content) == 0 {
				continue
			}
			sum := sha256.Sum256(file.Content)
			v.File = &FileNote{Name: file.Name, Type: file.ContentType, Size: len(file.Content), SHA256: fmt.Sprintf("%x", sum)}
		} else {
			v.Value = strings.TrimSpace(in.Values[f.Name])
			if v.Value == "" {
				continue
			}
		}
		out = append(out, v)
	}
	return out
}

// body is the delivered message's text: each answer under its label.
func body(d *Definition, formID, subID string, vals []Value, consent bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "A submission of the form %q.\r\n\r\n", d.Name)
	for _, v := range vals {
		if v.File != nil {
			fmt.Fprintf(&b, "%s:\r\n  attached file %s (%s, %d bytes, SHA-256 %s)\r\n\r\n", v.Label, v.File.Name, v.File.Type, v.File.Size, v.File.SHA256)
			continue
		}
		fmt.Fprintf(&b, "%s:\r\n  %s\r\n\r\n", v.Label, strings.ReplaceAll(strings.ReplaceAll(v.Value, "\r\n", "\n"), "\n", "\r\n  "))
	}
	if d.Consent != nil {
		fmt.Fprintf(&b, "Consent (%s): %v\r\n\r\n", d.Consent.Kind, consent)
	}
	fmt.Fprintf(&b, "-- \r\nForm %s, submission %s\r\n", formID, subID)
	return b.String()
}

// Submit checks a submission and accepts it: the message (when the form has
// addresses), the stored copy, the form.submitted event and the audit entry commit in
// one transaction, sealed under the tenant key. Field errors come back for the page;
// err is a refusal (*pipeline.Error) or a failure.
func (s *Service) Submit(ctx context.Context, h *Hosted, in *Input) (*Receipt, []*FieldError, error) {
	d := h.Def
	if fe := d.Check(in); len(fe) > 0 {
		return nil, fe, nil
	}
	consent := d.Consent != nil && in.Consent
	if consent && s.cfg.Consent == nil {
		return nil, nil, ErrConsentUnavailable
	}
	now := s.now()
	sid := tenant.NewID("fsb")
	vals := d.values(in)
	ev := &Evidence{FormID: h.Form.ID, SubmissionID: sid, At: now.UTC().Truncate(time.Millisecond), Agreed: consent, Values: vals}
	if d.Consent != nil {
		ev.Kind, ev.Statement, ev.Purposes = d.Consent.Kind, d.Consent.Statement, d.Consent.Purposes
	}
	evidence := ev.Hash()
	row := &store.FormSubmission{ID: sid, FormID: h.Form.ID, TenantID: h.Form.TenantID, CreatedAt: now,
		ExpiresAt: now.Add(d.RetentionPeriod()), EvidenceHash: evidence[:]}
	if d.Destinations.Store {
		b, _ := json.Marshal(vals)
		row.Content = h.Keys.Data.Seal(b, "form_submission/"+sid)
	}
	principal := "form:" + h.Form.ID
	audit := &store.AuditEntry{At: now, TenantID: h.Form.TenantID, Principal: principal, Action: "form.submitted", Result: "ok", Client: in.ClientAddr,
		Detail: fmt.Sprintf(`{"form_id":%q,"submission_id":%q}`, h.Form.ID, sid)}
	event := func(messageID string) *store.Event {
		data, _ := json.Marshal(map[string]string{"form_id": h.Form.ID, "submission_id": sid})
		return &store.Event{TenantID: h.Form.TenantID, MessageID: messageID, Type: "form.submitted", At: now,
			Data: h.Keys.Data.Seal(data, "event/")}
	}
	rc := &Receipt{SubmissionID: sid}
	from, _ := parseAddr(d.From)
	var atts []message.Attachment
	for _, f := range d.Fields {
		if file := in.Files[f.Name]; f.Type == TypeFile && file != nil && len(file.Content) > 0 {
			atts = append(atts, message.Attachment{Filename: file.Name, ContentType: file.ContentType, Content: file.Content})
		}
	}
	text := body(d, h.Form.ID, sid, vals, consent)
	if len(d.Destinations.Addresses) > 0 {
		draft := &message.Draft{From: message.Address{Name: d.Name, Addr: from.Addr}, Subject: "Form submission: " + d.Name, Text: text,
			Attachments: slices.Clone(atts)}
		for _, a := range d.Destinations.Addresses {
			addr, _ := parseAddr(a)
			draft.To = append(draft.To, addr)
		}
		for _, f := range d.Fields {
			if f.Type == TypeEmail {
				if a, err := parseAddr(in.Values[f.Name]); err == nil {
					draft.ReplyTo = []message.Address{a}
					break
				}
			}
		}
		sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: h.Form.TenantID, KeyID: principal}, Draft: draft,
			Tags: []string{"form"}, Metadata: map[string]string{"form_id": h.Form.ID, "submission_id": sid},
			Via: "", TLS: in.TLS, ClientAddr: in.ClientAddr, Audit: audit,
			Also: func(ctx context.Context, tx *store.Tx, id string) error {
				row.MessageID = id
				if err := tx.InsertFormSubmission(ctx, row); err != nil {
					return err
				}
				if d.Destinations.Webhook {
					return tx.InsertEvents(ctx, event(id))
				}
				return nil
			}}
		res, err := s.pipeline.Submit(ctx, sub)
		if err != nil {
			return nil, nil, err
		}
		rc.MessageID = res.MessageID
		s.cfg.Accepted()
	} else {
		var events []*store.Event
		if d.Destinations.Webhook {
			events = append(events, event(""))
		}
		err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertFormSubmission(ctx, row); err != nil {
				return err
			}
			if len(events) > 0 {
				if err := tx.InsertEvents(ctx, events...); err != nil {
					return err
				}
			}
			audit.Object = sid
			return tx.AppendAudit(ctx, audit)
		})
		if err != nil {
			return nil, nil, err
		}
	}
	s.log.Info("form submission accepted", "form", h.Form.ID, "submission", sid, "message", rc.MessageID, "files", len(atts))
	if consent {
		rc.ConsentID = s.recordConsent(ctx, h, in, sid, vals, evidence, now)
	}
	if d.SubmitterCopy != "" && in.Copy {
		rc.CopySent = s.sendCopy(ctx, h, in, from, text, atts, sid)
	}
	return rc, nil, nil
}

// recordConsent hands the consent to the marketing capability once the submission is
// committed; a failure leaves the submission and its evidence hash, logged by id, so
// the record can be made again from them.
func (s *Service) recordConsent(ctx context.Context, h *Hosted, in *Input, sid string, vals []Value, evidence [32]byte, now time.Time) string {
	c := h.Def.Consent
	addr, _ := parseAddr(in.Values[c.EmailField])
	var allowed []Value
	for _, v := range vals {
		if slices.Contains(c.FieldsAllowed, v.Name) {
			allowed = append(allowed, v)
		}
	}
	ci := ConsentInput{Address: addr.Addr, Kind: c.Kind, Purposes: c.Purposes,
		FieldsAllowed: c.FieldsAllowed, Values: allowed, Statement: c.Statement, EvidenceHash: evidence, FormID: h.Form.ID, SubmissionID: sid, At: now,
		ExpiryEvent: c.ExpiryEvent}
	if c.ExpiresAfterDays > 0 {
		ci.ExpiresAt = now.AddDate(0, 0, c.ExpiresAfterDays)
	}
	id, err := s.cfg.Consent.RecordConsent(ctx, h.Form.TenantID, ci)
	if err == nil {
		err = s.db.SetFormConsent(ctx, h.Form.TenantID, sid, id)
	}
	if err != nil {
		s.log.Error("form consent not recorded", "form", h.Form.ID, "submission", sid, "err", err)
		return ""
	}
	return id
}

// sendCopy sends the submitter what they sent, kept in the portal: never in plain email.
func (s *Service) sendCopy(ctx context.Context, h *Hosted, in *Input, from message.Address, text string, atts []message.Attachment, sid string) bool {
	to, err := parseAddr(in.Values[h.Def.SubmitterCopy])
	if err != nil {
		return false
	}
	draft := &message.Draft{From: message.Address{Name: h.Def.Name, Addr: from.Addr}, To: []message.Address{to},
		Subject: "Your copy: " + h.Def.Title, Text: "This is a copy of what you sent us.\r\n\r\n" + text, Attachments: slices.Clone(atts)}
	sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: h.Form.TenantID, KeyID: "form:" + h.Form.ID}, Draft: draft,
		Tags: []string{"form-copy"}, Metadata: map[string]string{"form_id": h.Form.ID, "submission_id": sid},
		Security: policy.Flags{Force: policy.Portal}, TLS: in.TLS, ClientAddr: in.ClientAddr}
	if _, err := s.pipeline.Submit(ctx, sub); err != nil {
		var pe *pipeline.Error
		if !errors.As(err, &pe) {
			s.log.Error("form copy not sent", "form", h.Form.ID, "submission", sid, "err", err)
		}
		return false
	}
	s.cfg.Accepted()
	return true
}
