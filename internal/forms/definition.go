// Package forms owns secure forms: their definitions per tenant, the checks a
// submission must pass, and turning an accepted submission into a sealed message
// through the pipeline (with its stored copy, webhook event and consent record).
package forms

import (
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/duration"
	"github.com/sealpost/sealpost/internal/message"
)

// Field types.
const (
	TypeText     = "text"
	TypeLongText = "long_text"
	TypeEmail    = "email"
	TypePhone    = "phone"
	TypeDate     = "date"
	TypeChoice   = "choice"
	TypeCheckbox = "checkbox"
	TypeFile     = "file"
)

// Types lists the field types.
var Types = []string{TypeText, TypeLongText, TypeEmail, TypePhone, TypeDate, TypeChoice, TypeCheckbox, TypeFile}

// Consent kinds.
const (
	ConsentHIPAAMarketing = "hipaa_marketing_authorisation"
	ConsentEmailOptIn     = "email_opt_in"
)

// Limits on a definition.
const (
	maxFields        = 50
	maxLabel         = 200
	maxHelp          = 1000
	maxOptions       = 50
	maxTextLen       = 10000
	maxFileBytes     = 25 << 20
	maxTotalFiles    = 40 << 20
	maxConfirmation  = 2000
	maxOrigins       = 10
	defaultRetention = 30 * 24 * time.Hour
	maxRetention     = 10 * 365 * 24 * time.Hour
	// DefaultMinFill is how long a person takes at least, by default, between the page
	// arriving and the form being sent.
	DefaultMinFill = 3 * time.Second
)

// Definition is a form as an administrator writes it.
type Definition struct {
	Name         string       `json:"name"`
	Title        string       `json:"title"`
	Intro        string       `json:"intro,omitempty"`
	Fields       []Field      `json:"fields"`
	From         string       `json:"from"` // sender of the delivered message, on a verified domain
	Destinations Destinations `json:"destinations"`
	Confirmation string       `json:"confirmation,omitempty"`
	// Retention is how long a stored submission is kept ("90d"); default 30 days.
	Retention string `json:"retention,omitempty"`
	// AllowedOrigins may frame the hosted page (https://clinic.example); none: no framing.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// SubmitterCopy names an email field: its owner may ask for a copy, sent through the
	// portal only.
	SubmitterCopy string   `json:"submitter_copy,omitempty"`
	Consent       *Consent `json:"consent,omitempty"`
	// MinFillSeconds is the time-to-fill check; 0 means the default (3 s).
	MinFillSeconds int `json:"min_fill_seconds,omitempty"`
}

// Field is one input.
type Field struct {
	Name      string   `json:"name"` // a-z, 0-9 and _; unique in the form
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	Required  bool     `json:"required,omitempty"`
	Help      string   `json:"help,omitempty"`
	Options   []string `json:"options,omitempty"`    // choice
	MaxLength int      `json:"max_length,omitempty"` // text types; 0: 200 for one line, 5000 for long text
	Accept    []string `json:"accept,omitempty"`     // file: media types (application/pdf, image/*)
	MaxBytes  int64    `json:"max_bytes,omitempty"`  // file; 0: 10 MiB
}

// Destinations is where submissions go.
type Destinations struct {
	Addresses []string `json:"addresses,omitempty"` // internal addresses; delivered secured by the tenant's policy
	Webhook   bool     `json:"webhook,omitempty"`   // a form.submitted event for the tenant's webhook endpoints
	Store     bool     `json:"store,omitempty"`     // kept sealed for the dashboard and the API
}

// Consent is a block that records an authorisation or opt-in for marketing.
type Consent struct {
	Kind          string   `json:"kind"`           // hipaa_marketing_authorisation | email_opt_in
	Statement     string   `json:"statement"`      // what the submitter agrees to, shown beside the checkbox
	Purposes      []string `json:"purposes"`       // the scope
	FieldsAllowed []string `json:"fields_allowed"` // fields marketing may use
	EmailField    string   `json:"email_field"`    // the field holding the address consented for
	// An authorisation must end (45 CFR 164.508(c)(1)(v)): after a number of days from
	// signing, or at an event the tenant fires through the marketing API.
	ExpiresAfterDays int    `json:"expires_after_days,omitempty"`
	ExpiryEvent      string `json:"expiry_event,omitempty"`
}

// FieldError names what is wrong, by its JSON path.
type FieldError = message.FieldError

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Honeypot is the name of the field people never see; reserved.
const Honeypot = "website_url"

// reserved are names the hosted page uses itself.
var reserved = []string{Honeypot, "csrf", "copy", "consent"}

// Validate checks a definition and fills its defaults, naming every problem at once.
func (d *Definition) Validate() []*FieldError {
	var fe []*FieldError
	bad := func(field, format string, a ...any) {
		fe = append(fe, &FieldError{Field: field, Detail: fmt.Sprintf(format, a...), Status: 400})
	}
	text := func(field, v string, max int, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			bad(field, "required")
		case len(v) > max:
			bad(field, "at most %d bytes", max)
		case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			bad(field, "must be UTF-8 text")
		}
	}
	text("name", d.Name, maxLabel, true)
	if strings.ContainsAny(d.Name, "\r\n\t") {
		bad("name", "one line")
	}
	text("title", d.Title, maxLabel, true)
	text("intro", d.Intro, maxHelp, false)
	text("confirmation", d.Confirmation, maxConfirmation, false)
	if _, err := message.ParseAddress(d.From); err != nil {
		bad("from", "a valid address on one of the account's verified domains")
	}
	if len(d.Fields) == 0 {
		bad("fields", "at least one field")
	}
	if len(d.Fields) > maxFields {
		bad("fields", "at most %d fields", maxFields)
	}
	seen := map[string]bool{}
	var fileBytes int64
	for i := range d.Fields {
		f := &d.Fields[i]
		p := fmt.Sprintf("fields[%d]", i)
		switch {
		case !fieldName.MatchString(f.Name):
			bad(p+".name", "1-40 of a-z, 0-9 and _, starting with a letter")
		case slices.Contains(reserved, f.Name):
			bad(p+".name", "%q is reserved", f.Name)
		case seen[f.Name]:
			bad(p+".name", "%q is used by an earlier field", f.Name)
		}
		seen[f.Name] = true
		text(p+".label", f.Label, maxLabel, true)
		text(p+".help", f.Help, maxHelp, false)
		if !slices.Contains(Types, f.Type) {
			bad(p+".type", "one of %s", strings.Join(Types, ", "))
		}
		if f.Type == TypeChoice {
			if len(f.Options) < 2 || len(f.Options) > maxOptions {
				bad(p+".options", "2-%d options", maxOptions)
			}
			for j, o := range f.Options {
				text(fmt.Sprintf("%s.options[%d]", p, j), o, maxLabel, true)
			}
		} else if len(f.Options) > 0 {
			bad(p+".options", "only for choice fields")
		}
		if f.MaxLength < 0 || f.MaxLength > maxTextLen {
			bad(p+".max_length", "0-%d", maxTextLen)
		}
		if f.MaxLength == 0 {
			f.MaxLength = 200
			if f.Type == TypeLongText {
				f.MaxLength = 5000
			}
		}
		if f.Type == TypeFile {
			if f.MaxBytes == 0 {
				f.MaxBytes = 10 << 20
			}
			if f.MaxBytes < 1 || f.MaxBytes > maxFileBytes {
				bad(p+".max_bytes", "1-%d", maxFileBytes)
			}
			fileBytes += f.MaxBytes
			for j, a := range f.Accept {
				if _, _, err := mime.ParseMediaType(a); err != nil || !strings.Contains(a, "/") {
					bad(fmt.Sprintf("%s.accept[%d]", p, j), "a media type such as application/pdf or image/*")
				}
			}
		} else {
			if len(f.Accept) > 0 {
				bad(p+".accept", "only for file fields")
			}
			if f.MaxBytes != 0 {
				bad(p+".max_bytes", "only for file fields")
			}
		}
	}
	if fileBytes > maxTotalFiles {
		bad("fields", "file fields may together take at most %d bytes", maxTotalFiles)
	}
	dst := d.Destinations
	if len(dst.Addresses) == 0 && !dst.Webhook && !dst.Store {
		bad("destinations", "at least one: addresses, webhook or store")
	}
	if len(dst.Addresses) > 20 {
		bad("destinations.addresses", "at most 20")
	}
	for i, a := range dst.Addresses {
		if _, err := message.ParseAddress(a); err != nil {
			bad(fmt.Sprintf("destinations.addresses[%d]", i), "a valid email address")
		}
	}
	if d.Retention != "" {
		r, err := duration.Parse(d.Retention)
		if err != nil || r < time.Hour || r > maxRetention {
			bad("retention", "a duration from 1h to 3650d, such as 90d")
		}
	}
	if len(d.AllowedOrigins) > maxOrigins {
		bad("allowed_origins", "at most %d", maxOrigins)
	}
	for i, o := range d.AllowedOrigins {
		if !validOrigin(o) {
			bad(fmt.Sprintf("allowed_origins[%d]", i), "an origin such as https://clinic.example (https, no path)")
		}
	}
	emailField := func(path, name string) {
		i := slices.IndexFunc(d.Fields, func(f Field) bool { return f.Name == name })
		if i < 0 || d.Fields[i].Type != TypeEmail {
			bad(path, "the name of an email field of this form")
		}
	}
	if d.SubmitterCopy != "" {
		emailField("submitter_copy", d.SubmitterCopy)
	}
	if c := d.Consent; c != nil {
		if c.Kind != ConsentHIPAAMarketing && c.Kind != ConsentEmailOptIn {
			bad("consent.kind", "%s or %s", ConsentHIPAAMarketing, ConsentEmailOptIn)
		}
		text("consent.statement", c.Statement, maxHelp*4, true)
		if len(c.Purposes) == 0 {
			bad("consent.purposes", "at least one purpose")
		}
		for i, p := range c.Purposes {
			text(fmt.Sprintf("consent.purposes[%d]", i), p, maxLabel, true)
		}
		for i, n := range c.FieldsAllowed {
			if !seen[n] {
				bad(fmt.Sprintf("consent.fields_allowed[%d]", i), "the name of a field of this form")
			}
		}
		emailField("consent.email_field", c.EmailField)
		if c.ExpiresAfterDays < 0 || c.ExpiresAfterDays > 36600 {
			bad("consent.expires_after_days", "0-36600")
		}
		if c.Kind == ConsentHIPAAMarketing && c.ExpiresAfterDays == 0 && c.ExpiryEvent == "" {
			bad("consent.expires_after_days", "an authorisation needs expires_after_days or expiry_event")
		}
	}
	if d.MinFillSeconds < 0 || d.MinFillSeconds > 600 {
		bad("min_fill_seconds", "0-600")
	}
	return fe
}

// RetentionPeriod is how long stored submissions are kept.
func (d *Definition) RetentionPeriod() time.Duration {
	if r, err := duration.Parse(d.Retention); err == nil && r > 0 {
		return r
	}
	return defaultRetention
}

// MinFill is the time-to-fill threshold.
func (d *Definition) MinFill() time.Duration {
	if d.MinFillSeconds > 0 {
		return time.Duration(d.MinFillSeconds) * time.Second
	}
	return DefaultMinFill
}

// MaxUpload is the most a submission's body may weigh: every file field at its limit
// plus room for the text fields and the multipart framing.
func (d *Definition) MaxUpload() int64 {
	n := int64(256 << 10)
	for _, f := range d.Fields {
		n += int64(f.MaxLength)*4 + 4096
		if f.Type == TypeFile {
			n += f.MaxBytes
		}
	}
	return n
}

func validOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if u.Scheme == "https" {
		return !strings.ContainsAny(o, " ;,'\"")
	}
	// Plain http only for loopback, where a practice tests its site.
	h := u.Hostname()
	return u.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1")
}
