package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sealpost/sealpost/internal/dlp"
)

// Message is what the policy sees of one message: never its content, only what the
// scan found and what the sender said.
type Message struct {
	Findings []dlp.Finding
	Sender   string // address
	Subject  string // only checked for the trigger
	Tags     []string
	Flags    Flags
}

// Plan is the decision for one recipient before we know what it can receive.
type Plan struct {
	Action     string   `json:"action"`
	Rule       string   `json:"rule,omitempty"` // the rule that matched; "" for the default
	Candidates []Method `json:"candidates,omitempty"`
	Reasons    []string `json:"reasons"`
}

// Plan evaluates the rules in order for one recipient domain; the first rule whose
// conditions all hold decides. Whatever the rules say, plain delivery is removed for
// content with findings or a sender's demand for encryption.
func (d *Document) Plan(m *Message, rcptDomain string) Plan {
	trigger := d.Trigger()
	triggered := strings.Contains(strings.ToLower(m.Subject), strings.ToLower(trigger))
	require := m.Flags.Require
	if require == "" && triggered {
		require = "encrypted"
	}
	var p Plan
	if len(m.Findings) > 0 {
		p.Reasons = append(p.Reasons, "DLP found "+Summary(m.Findings))
	}
	switch {
	case m.Flags.Force != "":
		p.Action, p.Candidates = ActionSecure, []Method{m.Flags.Force}
		p.Reasons = append(p.Reasons, "sender forced "+string(m.Flags.Force))
	default:
		for i, r := range d.Rules {
			if !r.If.matches(m, rcptDomain, triggered, m.Flags.Require) {
				continue
			}
			name := r.Name
			if name == "" {
				name = fmt.Sprintf("rules[%d]", i)
			}
			p.Action, p.Rule, p.Candidates = r.Then.Action, name, slices.Clone(r.Then.Methods)
			p.Reasons = append(p.Reasons, fmt.Sprintf("rule %q matched", name))
			break
		}
		if p.Action == "" {
			p.Action = ActionSecure
			switch {
			case len(m.Findings) > 0:
				p.Candidates = slices.Clone(DefaultPHIMethods)
				p.Reasons = append(p.Reasons, "default policy: content with PHI findings leaves only by verified TLS, PGP, S/MIME or the portal")
			case d.AllowPlain:
				p.Candidates = []Method{TLS, PGP, SMIME, None}
				p.Reasons = append(p.Reasons, "default policy: no findings and plain delivery allowed")
			default:
				p.Candidates = slices.Clone(DefaultPHIMethods)
				p.Reasons = append(p.Reasons, "default policy: every message is secured")
			}
		}
	}
	if triggered {
		p.Reasons = append(p.Reasons, "subject carries "+trigger)
	}
	if p.Action != ActionSecure {
		p.Candidates = nil
		return p
	}
	drop := func(m Method, why string) {
		if i := slices.Index(p.Candidates, m); i >= 0 {
			p.Candidates = slices.Delete(p.Candidates, i, i+1)
			p.Reasons = append(p.Reasons, string(m)+" not permitted: "+why)
		}
	}
	if len(m.Findings) > 0 {
		drop(None, "content has PHI findings")
	}
	if !d.AllowPlain {
		drop(None, "the tenant policy does not allow plain delivery")
	}
	switch require {
	case "encrypted":
		drop(TLS, "encryption of the content is required")
		drop(None, "encryption of the content is required")
	case "tls":
		drop(None, "TLS or encryption is required")
	}
	if len(p.Candidates) == 0 {
		p.Reasons = append(p.Reasons, "no permitted method remains")
	}
	return p
}

func (c *Condition) matches(m *Message, rcptDomain string, triggered bool, require string) bool {
	if len(c.Categories) > 0 && !anyCategory(m.Findings, c.Categories) {
		return false
	}
	if c.NoFindings && len(m.Findings) > 0 {
		return false
	}
	if len(c.Senders) > 0 && !slices.ContainsFunc(c.Senders, func(s string) bool { return senderMatches(s, m.Sender) }) {
		return false
	}
	if len(c.RecipientDomains) > 0 && !slices.ContainsFunc(c.RecipientDomains, func(s string) bool { return domainMatches(s, rcptDomain) }) {
		return false
	}
	if len(c.Tags) > 0 && !slices.ContainsFunc(c.Tags, func(t string) bool { return slices.Contains(m.Tags, t) }) {
		return false
	}
	if c.SubjectTrigger && !triggered {
		return false
	}
	if c.Require != "" && c.Require != require {
		return false
	}
	return true
}

func anyCategory(fs []dlp.Finding, want []string) bool {
	for _, f := range fs {
		for _, w := range want {
			if w == "any" || string(f.Category) == w {
				return true
			}
		}
	}
	return false
}

func senderMatches(pattern, addr string) bool {
	pattern, addr = strings.ToLower(pattern), strings.ToLower(addr)
	if strings.Contains(pattern, "@") && !strings.HasPrefix(pattern, "@") {
		return pattern == addr
	}
	_, domain, _ := strings.Cut(addr, "@")
	return domain == strings.TrimPrefix(pattern, "@")
}

func domainMatches(pattern, domain string) bool {
	pattern, domain = strings.ToLower(pattern), strings.ToLower(domain)
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(domain, "."+rest)
	}
	return pattern == domain
}

// Summary says what was found without saying what it was: "ssn×2 (high), npi×1 (medium)".
func Summary(fs []dlp.Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s×%d (%s)", f.Category, f.Count, f.Confidence)
	}
	return strings.Join(parts, ", ")
}

// Categories lists the categories found, for a 422 that names them.
func Categories(fs []dlp.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Category)
	}
	return out
}

// Availability answers whether a recipient can receive a method now, and why not.
type Availability func(Method) (ok bool, why string)

// Choose walks the candidates from index from and returns the first available one and
// its index, with a reason for each candidate passed over. ok is false when none is
// available.
func Choose(candidates []Method, from int, avail Availability) (m Method, index int, reasons []string, ok bool) {
	for i := from; i < len(candidates); i++ {
		c := candidates[i]
		good, why := avail(c)
		if good {
			return c, i, append(reasons, "chose "+string(c)), true
		}
		reasons = append(reasons, string(c)+" unavailable: "+why)
	}
	return "", len(candidates), reasons, false
}
