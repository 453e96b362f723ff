package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/dlp"
	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/secureline"
)

// decide scans the draft for PHI and evaluates the tenant's policy for every
// recipient domain. A blocked message is a 422 naming the categories, never the text.
func (p *Pipeline) decide(ctx context.Context, sub *Submission) (*secureline.Decision, []dlp.Finding, error) {
	if fe := validateFlags(sub.Security); fe != nil {
		return nil, nil, fieldErrors([]*message.FieldError{fe})
	}
	d := sub.Draft
	if sub.System {
		return systemDecision(d), []dlp.Finding{}, nil
	}
	if fe := p.checkPortal(ctx, sub); fe != nil {
		return nil, nil, fieldErrors([]*message.FieldError{fe})
	}
	in := dlp.Input{Subject: d.Subject, Text: d.Text, HTML: d.HTML, Fields: scannedFields(sub)}
	for _, a := range d.Attachments {
		in.Attachments = append(in.Attachments, dlp.Attachment{Filename: a.Filename, ContentType: a.ContentType, Data: a.Content})
	}
	findings, err := p.secure.Scan(ctx, sub.Principal.TenantID, in)
	if err != nil {
		return nil, nil, err
	}
	if findings == nil {
		findings = []dlp.Finding{}
	}
	if sub.Security.Force == policy.None && len(findings) > 0 {
		return nil, nil, &Error{Status: 422, Title: "Plain delivery not permitted",
			Detail: "security.force: plain delivery is not permitted for content with PHI findings (" + strings.Join(policy.Categories(findings), ", ") + ")",
			Fields: []*message.FieldError{{Field: "security.force", Detail: "plain delivery is not permitted for content with PHI findings", Status: 422}}}
	}
	var domains []string
	for _, list := range [][]message.Address{d.To, d.Cc, d.Bcc} {
		for _, a := range list {
			domains = append(domains, a.Domain())
		}
	}
	dec, err := p.secure.Decide(ctx, sub.Principal.TenantID, &policy.Message{Findings: findings, Sender: d.From.Addr, Subject: d.Subject, Tags: sub.Tags, Flags: sub.Security}, domains)
	if err != nil {
		return nil, nil, err
	}
	return dec, findings, nil
}

// scannedFields are the caller's short values other than the subject that DLP reads
// like the subject: the labels (sealed at rest, but a finding there still says PHI was
// handed over), and what travels in the message's headers — custom header values,
// attachment file names and display names.
func scannedFields(sub *Submission) []string {
	d := sub.Draft
	out := append([]string(nil), sub.Tags...)
	if sub.Campaign != "" {
		out = append(out, sub.Campaign)
	}
	for _, h := range d.Headers {
		out = append(out, h.Value)
	}
	for _, a := range d.Attachments {
		if a.Filename != "" {
			out = append(out, a.Filename)
		}
	}
	for _, list := range [][]message.Address{{d.From}, d.To, d.Cc, d.Bcc, d.ReplyTo} {
		for _, a := range list {
			if a.Name != "" {
				out = append(out, a.Name)
			}
		}
	}
	return out
}

// blocked is the refusal of a message the policy blocks.
func blocked(dec *secureline.Decision) error {
	cats := "no findings"
	if len(dec.Categories) > 0 {
		cats = strings.Join(dec.Categories, ", ")
	}
	return &Error{Status: 422, Title: "Blocked by policy",
		Detail: "the account's security policy blocks this message (" + cats + "): " + strings.Join(dec.Reasons, "; ")}
}

// Preview is what would happen to a draft, per recipient; nothing is stored or sent.
type Preview struct {
	Action     string             `json:"action"`
	Reasons    []string           `json:"reasons,omitempty"`
	DLP        []dlp.Finding      `json:"dlp"`
	Recipients []PreviewRecipient `json:"recipients"`
}

// PreviewRecipient is one recipient's method and why.
type PreviewRecipient struct {
	Email      string          `json:"email"`
	Kind       string          `json:"type"`
	Method     policy.Method   `json:"method,omitempty"` // "" when no permitted method is available
	Candidates []policy.Method `json:"candidates"`
	Fallbacks  []policy.Method `json:"fallbacks"`
	Reasons    []string        `json:"reasons"`
	Tracking   TrackPreview    `json:"tracking"`
}

// Preview validates a submission exactly as Submit does and reports, for each recipient, the
// method delivery would use now and the reasons — the same evaluation the worker runs.
func (p *Pipeline) Preview(ctx context.Context, sub *Submission) (*Preview, error) {
	keys, err := p.check(ctx, sub)
	if err != nil {
		return nil, err
	}
	d := sub.Draft
	dec, findings, err := p.decide(ctx, sub)
	if err != nil {
		return nil, err
	}
	out := &Preview{Action: dec.Action, DLP: findings, Recipients: []PreviewRecipient{}}
	if dec.Action != policy.ActionSecure {
		out.Reasons = dec.Reasons
	}
	add := func(kind string, list []message.Address) {
		for _, a := range list {
			plan := dec.Plans[a.Domain()]
			r := PreviewRecipient{Email: a.Addr, Kind: kind, Candidates: plan.Candidates, Fallbacks: []policy.Method{}, Reasons: slices.Clone(plan.Reasons)}
			if plan.Action == policy.ActionSecure {
				avail := p.secure.PreviewRecipient(ctx, keys, sub.Principal.TenantID, a.Addr, a.Domain()).Available
				m, i, why, ok := policy.Choose(plan.Candidates, 0, avail)
				r.Reasons = append(r.Reasons, why...)
				if ok {
					r.Method = m
					for _, c := range plan.Candidates[i+1:] {
						if good, _ := avail(c); good {
							r.Fallbacks = append(r.Fallbacks, c)
						}
					}
				}
			}
			if r.Candidates == nil {
				r.Candidates = []policy.Method{}
			}
			r.Tracking = previewTrack(sub.Track, sub.trackSource, dec.Tracking, r.Method, len(findings) > 0)
			out.Recipients = append(out.Recipients, r)
		}
	}
	add("to", d.To)
	add("cc", d.Cc)
	add("bcc", d.Bcc)
	return out, nil
}

func validateFlags(f policy.Flags) *message.FieldError {
	if f.Require != "" && f.Require != "encrypted" && f.Require != "tls" {
		return &message.FieldError{Field: "security.require", Detail: `must be "encrypted" or "tls"`, Status: 400}
	}
	if f.Force != "" && !slices.Contains(policy.Methods(), f.Force) {
		return &message.FieldError{Field: "security.force", Detail: `must be one of "tls", "pgp", "smime", "portal", "none"`, Status: 400}
	}
	return nil
}

// systemDecision is the plan for a message Sealpost itself writes without PHI (an
// access code): verified TLS where the recipient has it, otherwise ordinary delivery,
// never the portal (a code cannot wait behind the portal it unlocks).
func systemDecision(d *message.Draft) *secureline.Decision {
	dec := &secureline.Decision{Action: policy.ActionSecure, Plans: map[string]*policy.Plan{}}
	for _, list := range [][]message.Address{d.To, d.Cc, d.Bcc} {
		for _, a := range list {
			dec.Plans[a.Domain()] = &policy.Plan{Action: policy.ActionSecure, Candidates: []policy.Method{policy.TLS, policy.None},
				Reasons: []string{"system message without PHI (portal access code)"}}
		}
	}
	return dec
}

// Passphrase bounds: long enough to resist guessing between lockouts, short enough to
// hash cheaply.
const (
	minPassphrase = 8
	maxPassphrase = 256
)

// checkPortal validates the sender's portal choices against the tenant's bounds.
func (p *Pipeline) checkPortal(ctx context.Context, sub *Submission) *message.FieldError {
	pr := sub.Portal
	if n := utf8.RuneCountInString(pr.Passphrase); pr.Passphrase != "" && (n < minPassphrase || len(pr.Passphrase) > maxPassphrase) {
		return &message.FieldError{Field: "portal.passphrase", Detail: fmt.Sprintf("a passphrase is %d to %d characters", minPassphrase, maxPassphrase), Status: 400}
	}
	if pr.ExpiresIn < 0 {
		return &message.FieldError{Field: "portal.expires_in", Detail: "must be positive", Status: 400}
	}
	if pr.ExpiresIn > 0 {
		if _, err := p.secure.PortalExpiry(ctx, sub.Principal.TenantID, pr.ExpiresIn); err != nil {
			return &message.FieldError{Field: "portal.expires_in", Detail: err.Error(), Status: 422}
		}
	}
	return nil
}
