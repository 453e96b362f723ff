package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/render"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Limits on the parts of a submission that are not the message itself.
const (
	maxTags          = 10
	maxTagLen        = 64
	maxMetadataKeys  = 20
	maxMetadataKey   = 64
	maxMetadataValue = 1024
	maxCampaignLen   = 128
)

func validateExtras(sub *Submission) []*message.FieldError {
	var fe []*message.FieldError
	bad := func(field, detail string) {
		fe = append(fe, &message.FieldError{Field: field, Detail: detail, Status: 400})
	}
	if len(sub.Tags) > maxTags {
		bad("tags", fmt.Sprintf("at most %d tags", maxTags))
	}
	for i, t := range sub.Tags {
		if t == "" || len(t) > maxTagLen || !printable(t) {
			bad(fmt.Sprintf("tags[%d]", i), fmt.Sprintf("a tag is 1-%d printable characters", maxTagLen))
		}
	}
	if len(sub.Campaign) > maxCampaignLen || !printable(sub.Campaign) {
		bad("campaign", fmt.Sprintf("at most %d printable characters", maxCampaignLen))
	}
	if len(sub.Metadata) > maxMetadataKeys {
		bad("metadata", fmt.Sprintf("at most %d keys", maxMetadataKeys))
	}
	for k, v := range sub.Metadata {
		if k == "" || len(k) > maxMetadataKey || !printable(k) {
			bad("metadata", fmt.Sprintf("keys are 1-%d printable characters", maxMetadataKey))
		}
		if len(v) > maxMetadataValue || !utf8.ValidString(v) {
			bad("metadata."+k, fmt.Sprintf("values are at most %d bytes of UTF-8", maxMetadataValue))
		}
	}
	return fe
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// TemplateContent is what a stored template holds (sealed).
type TemplateContent struct {
	Subject string `json:"subject"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
	// Track is the template's own tracking choice: it applies to a message that does
	// not say "track", before the tenant's default.
	Track *Track `json:"track,omitempty"`
}

// ParseTemplate checks that a template's parts parse, naming the part that does not.
func ParseTemplate(c *TemplateContent) (subject, text, html *render.Template, fe *message.FieldError) {
	parse := func(field, src string) *render.Template {
		if fe != nil || src == "" {
			return nil
		}
		t, err := render.Parse(field, src)
		if err != nil {
			detail := err.Error()
			var se *render.SyntaxError
			if errors.As(err, &se) {
				detail = se.Where()
			}
			fe = &message.FieldError{Field: field, Detail: detail, Status: 422}
		}
		return t
	}
	subject = parse("subject", c.Subject)
	text = parse("text", c.Text)
	html = parse("html", c.HTML)
	if fe == nil && c.Text == "" && c.HTML == "" {
		fe = &message.FieldError{Field: "text", Detail: "a template needs text or html", Status: 422}
	}
	return
}

// LoadTemplate unseals a tenant's stored template.
func LoadTemplate(keys *tenant.Keys, t *store.Template) (*TemplateContent, error) {
	b, err := keys.Data.Open(t.Content, "template/"+t.ID)
	if err != nil {
		return nil, err
	}
	var c TemplateContent
	return &c, json.Unmarshal(b, &c)
}

// render fills the draft from a stored template: the template's parts replace empty
// ones; a variable missing from the data is a 422 naming it.
func (p *Pipeline) render(ctx context.Context, keys *tenant.Keys, sub *Submission) error {
	if sub.TemplateID == "" {
		return nil
	}
	t, err := p.db.Template(ctx, sub.Principal.TenantID, sub.TemplateID)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: 422, Title: "Unknown template", Detail: "no template with this id",
			Fields: []*message.FieldError{{Field: "template_id", Detail: "no template with this id", Status: 422}}}
	}
	if err != nil {
		return err
	}
	c, err := LoadTemplate(keys, t)
	if err != nil {
		return err
	}
	if sub.Track == nil && c.Track != nil {
		sub.Track, sub.trackSource = c.Track, "template"
	}
	subj, text, html, fe := ParseTemplate(c)
	if fe != nil {
		return fieldErrors([]*message.FieldError{fe})
	}
	// Every part is rendered before any error is returned, so the caller learns every
	// missing variable of subject, text and HTML in one answer.
	var missing []string
	exec := func(field string, t *render.Template, mode render.Mode, dst *string) error {
		if t == nil || *dst != "" {
			return nil
		}
		var b strings.Builder
		if err := t.Execute(&b, sub.TemplateData, mode); err != nil {
			var miss *render.MissingError
			if errors.As(err, &miss) {
				for _, v := range miss.Variables {
					if !slices.Contains(missing, v) {
						missing = append(missing, v)
					}
				}
				return nil
			}
			return &Error{Status: 422, Title: "Template cannot be rendered", Detail: err.Error(),
				Fields: []*message.FieldError{{Field: "template_id", Detail: err.Error(), Status: 422}}}
		}
		*dst = b.String()
		return nil
	}
	d := sub.Draft
	for _, part := range []struct {
		field string
		t     *render.Template
		mode  render.Mode
		dst   *string
	}{{"subject", subj, render.Text, &d.Subject}, {"text", text, render.Text, &d.Text}, {"html", html, render.HTML, &d.HTML}} {
		if err := exec(part.field, part.t, part.mode, part.dst); err != nil {
			return err
		}
	}
	if len(missing) == 0 {
		return nil
	}
	e := &Error{Status: 422, Title: "Template variables missing"}
	q := make([]string, len(missing))
	for i, v := range missing {
		q[i] = strconv.Quote(v)
		e.Fields = append(e.Fields, &message.FieldError{Field: "template_data." + v, Detail: "variable used by the template is missing", Status: 422})
	}
	if len(q) == 1 {
		e.Detail = "template_data lacks the variable " + q[0] + " that the template uses"
	} else {
		e.Detail = "template_data lacks the variables " + strings.Join(q, ", ") + " that the template uses"
	}
	return e
}
