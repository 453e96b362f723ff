package tlssec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MTA-STS policy modes (RFC 8461 5).
const (
	ModeEnforce = "enforce" // deliver only over verified TLS to matching MX hosts
	ModeTesting = "testing" // deliver as usual; report what enforce would have refused
	ModeNone    = "none"    // the domain withdrew its policy
)

// maxMaxAge is the largest max_age a policy may give, about a year
// (RFC 8461 3.2).
const maxMaxAge = 31557600

// STSPolicy is an MTA-STS policy (RFC 8461 3.2) with the id of the TXT
// record that announced it (RFC 8461 3.1).
type STSPolicy struct {
	Mode   string        `json:"mode"`
	MX     []string      `json:"mx"` // lower-case patterns, "*." for one leftmost label
	MaxAge time.Duration `json:"max_age"`
	ID     string        `json:"id"`
}

// ParseRecord parses the TXT record at _mta-sts.<domain>, e.g.
// "v=STSv1; id=20260101T000000", and returns its id (RFC 8461 3.1).
// Unknown fields are ignored.
func ParseRecord(txt string) (id string, err error) {
	fields := strings.Split(strings.TrimRight(strings.TrimSpace(txt), "; \t"), ";")
	for i, field := range fields {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		switch {
		case !ok || k == "":
			return "", fmt.Errorf("%q is not a field", field)
		case i == 0 && (k != "v" || v != "STSv1"):
			return "", errors.New(`the record must start with "v=STSv1"`)
		case k == "id" && id == "":
			id = v
		}
	}
	// sts-id = 1*32(ALPHA / DIGIT)
	if id == "" || len(id) > 32 || strings.TrimFunc(id, isAlnum) != "" {
		return "", fmt.Errorf("id %q must be 1 to 32 letters and digits", id)
	}
	return id, nil
}

// ParsePolicy parses a policy file: "key: value" lines ending in LF or
// CRLF (RFC 8461 3.2). Unknown keys are ignored; of a repeated key other
// than mx the first occurrence counts. ID is left empty.
func ParsePolicy(body string) (*STSPolicy, error) {
	p := &STSPolicy{}
	version, maxAge := "", -1
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %q is not \"key: value\"", line)
		}
		v = strings.Trim(v, " \t") // sts-policy-field-delim = ":" *WSP
		switch strings.TrimSpace(k) {
		case "version":
			if version == "" {
				version = v
			}
		case "mode":
			if p.Mode == "" {
				p.Mode = v
			}
		case "mx":
			pattern := strings.ToLower(strings.TrimSuffix(v, "."))
			if !validPattern(pattern) {
				return nil, fmt.Errorf("mx %q is not a host name or *.domain", v)
			}
			p.MX = append(p.MX, pattern)
		case "max_age":
			n, err := strconv.Atoi(v)
			// sts-policy-max-age-value = 1*10DIGIT, at most 31557600.
			if err != nil || len(v) > 10 || strings.TrimFunc(v, isDigit) != "" || n > maxMaxAge {
				return nil, fmt.Errorf("max_age %q must be 0 to %d seconds", v, maxMaxAge)
			}
			if maxAge < 0 {
				maxAge = n
			}
		}
	}
	switch {
	case version != "STSv1":
		return nil, errors.New(`no "version: STSv1" line`)
	case p.Mode != ModeEnforce && p.Mode != ModeTesting && p.Mode != ModeNone:
		return nil, fmt.Errorf("mode %q must be enforce, testing or none", p.Mode)
	case maxAge < 0:
		return nil, errors.New("no max_age line")
	case len(p.MX) == 0 && p.Mode != ModeNone:
		return nil, errors.New("no mx lines")
	}
	p.MaxAge = time.Duration(maxAge) * time.Second
	return p, nil
}

// String renders the policy in the file format ParsePolicy reads.
func (p *STSPolicy) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: STSv1\r\nmode: %s\r\n", p.Mode)
	for _, mx := range p.MX {
		fmt.Fprintf(&b, "mx: %s\r\n", mx)
	}
	fmt.Fprintf(&b, "max_age: %d\r\n", int64(p.MaxAge/time.Second))
	return b.String()
}

// Matches reports whether mxHost is covered by one of the policy's mx
// patterns. RFC 8461 4.1: a pattern "*.example.com" covers exactly one
// extra leftmost label, so "mx.example.com" but neither "example.com" nor
// "a.b.example.com".
func (p *STSPolicy) Matches(mxHost string) bool {
	host := strings.ToLower(strings.TrimSuffix(mxHost, "."))
	for _, pattern := range p.MX {
		if suffix, wild := strings.CutPrefix(pattern, "*."); wild {
			label, ok := strings.CutSuffix(host, "."+suffix)
			if ok && label != "" && !strings.Contains(label, ".") {
				return true
			}
		} else if pattern == host {
			return true
		}
	}
	return false
}

// validPattern accepts a host name or "*." followed by one, in A-label
// form (RFC 8461 3.2 requires A-labels for internationalised names).
func validPattern(p string) bool {
	p = strings.TrimPrefix(p, "*.")
	if p == "" || len(p) > 253 {
		return false
	}
	for label := range strings.SplitSeq(p, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' && r != '_' {
				return false
			}
		}
	}
	return true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isAlnum(r rune) bool {
	return isDigit(r) || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}
