// Package policy decides how each recipient's copy of a message is secured: a tenant's
// ordered rules, over DLP findings, sender, recipient domain, tags and API flags, give a
// method preference list (or block, or quarantine) with the reasons, and the first
// method the recipient can actually receive is chosen from that list.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sealpost/sealpost/internal/dlp"
)

// Method is how one recipient's copy is secured.
type Method string

// Methods, strongest guarantees first within each family.
const (
	TLS    Method = "tls"    // verified TLS 1.2+ to every hop we control (WebPKI, MTA-STS or DANE)
	PGP    Method = "pgp"    // PGP/MIME encrypted to the recipient's OpenPGP key
	SMIME  Method = "smime"  // S/MIME enveloped to the recipient's certificate
	Portal Method = "portal" // kept sealed for the secure portal; the recipient gets a notice without PHI
	None   Method = "none"   // opportunistic delivery; only for content without findings, when allowed
)

// Methods lists every method.
func Methods() []Method { return []Method{TLS, PGP, SMIME, Portal, None} }

// Actions a rule can take.
const (
	ActionSecure     = "secure"     // deliver by the first available of Methods
	ActionBlock      = "block"      // refuse the message (422 naming the categories)
	ActionQuarantine = "quarantine" // accept but hold until an administrator releases or deletes it
)

// Flags a sender can set on one message through the API.
type Flags struct {
	// Require is "encrypted" (content encrypted end to end or kept in the portal: pgp,
	// smime, portal) or "tls" (additionally allows verified TLS).
	Require string `json:"require,omitempty"`
	// Force names the one method to use.
	Force Method `json:"force,omitempty"`
}

// Document is a tenant's policy as stored and edited.
type Document struct {
	Rules []Rule `json:"rules"`
	// AllowPlain permits "none" for content without findings. Off by default: a message
	// with no findings still travels by a secure method.
	AllowPlain bool `json:"allow_plain,omitempty"`
	// SubjectTrigger, when present in a subject, makes the message require encryption
	// (as Flags.Require "encrypted") unless a rule says otherwise. Default "[secure]".
	SubjectTrigger string `json:"subject_trigger,omitempty"`
	// DLP adds tenant-specific detectors to the built-in ones.
	DLP DLPRules `json:"dlp"`
	// Tracking is the default for open and click tracking and its rule for PHI.
	Tracking Tracking `json:"tracking,omitzero"`
}

// DLPRules are the tenant's own detectors.
type DLPRules struct {
	MRNPatterns []string `json:"mrn_patterns,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Regexps     []string `json:"regexps,omitempty"`
}

// Rule applies Then when every condition in If holds.
type Rule struct {
	Name string    `json:"name"`
	If   Condition `json:"if"`
	Then Action    `json:"then"`
}

// Condition is a conjunction; empty fields do not constrain.
type Condition struct {
	Categories       []string `json:"categories,omitempty"`        // any of these DLP categories was found; "any" = any finding
	NoFindings       bool     `json:"no_findings,omitempty"`       // the scan found nothing
	Senders          []string `json:"senders,omitempty"`           // "a@x.org", "@x.org" or "x.org"
	RecipientDomains []string `json:"recipient_domains,omitempty"` // "x.org" or "*.x.org"
	Tags             []string `json:"tags,omitempty"`              // any of these tags
	SubjectTrigger   bool     `json:"subject_trigger,omitempty"`   // the subject carries the trigger
	Require          string   `json:"require,omitempty"`           // the message's Flags.Require equals this
}

// Action is what a matching rule does.
type Action struct {
	Action  string   `json:"action"`
	Methods []Method `json:"methods,omitempty"`
}

// Unscanned is the finding for content DLP could not inspect (an encrypted or corrupt
// archive, a size limit): treated like any other finding, so it never leaves in plain.
const Unscanned dlp.Category = "unscanned"

// DefaultTrigger is the subject trigger when the document names none.
const DefaultTrigger = "[secure]"

// DefaultPHIMethods is the HIPAA-safe order for content with findings: verified TLS,
// then end-to-end encryption, then the portal, which every recipient can use.
var DefaultPHIMethods = []Method{TLS, PGP, SMIME, Portal}

// FieldError names the part of a document that is wrong.
type FieldError struct {
	Field, Detail string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// dlpField reports whether f is a field name the DLP compiler puts before its errors:
// a list of DLPRules, with or without an index.
func dlpField(f string) bool {
	name, index, _ := strings.Cut(f, "[")
	if name != "mrn_patterns" && name != "keywords" && name != "regexps" {
		return false
	}
	return index == "" || strings.HasSuffix(index, "]") && strings.Trim(index[:len(index)-1], "0123456789") == ""
}

// Invalid lists every problem of a document.
type Invalid []*FieldError

func (v Invalid) Error() string {
	parts := make([]string, len(v))
	for i, fe := range v {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

// Validate checks a document and returns the first problem with its field path.
func (d *Document) Validate() *FieldError {
	if inv := d.Check(); len(inv) > 0 {
		return inv[0]
	}
	return nil
}

// Check checks a document and returns every problem, each with its field path.
func (d *Document) Check() Invalid {
	var inv Invalid
	add := func(field, detail string) { inv = append(inv, &FieldError{field, detail}) }
	if len(d.Rules) > 200 {
		add("rules", "at most 200 rules")
	}
	if len(d.SubjectTrigger) > 64 {
		add("subject_trigger", "at most 64 characters")
	}
	known := map[string]bool{"any": true, string(Unscanned): true}
	for _, c := range dlp.Categories() {
		known[string(c)] = true
	}
	for i, r := range d.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		if len(r.Name) > 100 {
			add(at+".name", "at most 100 characters")
		}
		for j, c := range r.If.Categories {
			if !known[c] {
				add(fmt.Sprintf("%s.if.categories[%d]", at, j), "unknown category "+quote(c))
			}
		}
		if r.If.NoFindings && len(r.If.Categories) > 0 {
			add(at+".if.no_findings", "cannot be combined with categories")
		}
		if r.If.Require != "" && r.If.Require != "encrypted" && r.If.Require != "tls" {
			add(at+".if.require", `must be "encrypted" or "tls"`)
		}
		for j, s := range r.If.Senders {
			if s == "" || strings.ContainsAny(s, " \r\n\t") {
				add(fmt.Sprintf("%s.if.senders[%d]", at, j), "an address, @domain or domain")
			}
		}
		for j, s := range r.If.RecipientDomains {
			if s == "" || strings.ContainsAny(s, " @\r\n\t") {
				add(fmt.Sprintf("%s.if.recipient_domains[%d]", at, j), "a domain or *.domain")
			}
		}
		switch r.Then.Action {
		case ActionSecure:
			if len(r.Then.Methods) == 0 {
				add(at+".then.methods", "a secure action needs at least one method")
			}
			for j, m := range r.Then.Methods {
				f := fmt.Sprintf("%s.then.methods[%d]", at, j)
				switch {
				case !slices.Contains(Methods(), m):
					add(f, "unknown method "+quote(string(m)))
				// Plain delivery is never a choice for content that may hold PHI.
				case m == None && !r.If.NoFindings:
					add(f, `"none" is allowed only in a rule with "no_findings": true`)
				case slices.Index(r.Then.Methods, m) != j:
					add(f, "method listed twice")
				}
			}
		case ActionBlock, ActionQuarantine:
			if len(r.Then.Methods) > 0 {
				add(at+".then.methods", "only a secure action takes methods")
			}
		default:
			add(at+".then.action", `must be "secure", "block" or "quarantine"`)
		}
	}
	d.Tracking.check(add)
	if _, err := d.Scanner(); err != nil {
		// The compiler names the list and index ("regexps[2]: …"); the path from the
		// document's root puts "dlp." before it.
		if f, detail, ok := strings.Cut(err.Error(), ": "); ok && dlpField(f) {
			add("dlp."+f, detail)
		} else {
			add("dlp", err.Error())
		}
	}
	return inv
}

// Scanner compiles the document's DLP rules with the built-in detectors.
func (d *Document) Scanner() (*dlp.Scanner, error) {
	return dlp.Compile(dlp.Rules{MRNPatterns: d.DLP.MRNPatterns, Keywords: d.DLP.Keywords, Regexps: d.DLP.Regexps}, dlp.Limits{})
}

// Trigger is the effective subject trigger.
func (d *Document) Trigger() string {
	if d.SubjectTrigger == "" {
		return DefaultTrigger
	}
	return d.SubjectTrigger
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
