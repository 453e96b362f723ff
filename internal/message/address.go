package message

import (
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

const (
	maxLocalPart = 64  // RFC 5321 §4.5.3.1.1
	maxDomain    = 253 // RFC 1035 §2.3.4 (255 octets on the wire)
	maxLabel     = 63  // RFC 1035 §2.3.4
	maxAddrSpec  = 254 // RFC 5321 §4.5.3.1.3 path of 256 minus "<>"

	// maxDisplayName keeps a name, quoted or encoded, well inside one
	// 998-character line; RFC 5322 sets no limit of its own.
	maxDisplayName = 256
	// maxAddressInput bounds what ParseAddress looks at: one header line.
	maxAddressInput = 998
)

// Address is a mailbox (RFC 5322 §3.4).
type Address struct {
	Name string // display name, decoded text
	// Addr is "local@domain" with the domain lowercased and, when it was
	// internationalised, converted to its ASCII form (RFC 5891).
	Addr string
}

// ParseAddress parses "local@domain", "<local@domain>" or
// "Display Name <local@domain>" (RFC 5322 §3.4 name-addr and addr-spec).
// Comments, group syntax, quoted local parts and address literals are
// refused: they are legal but have no place in what an API client submits,
// and each is a known source of disagreement between parsers.
func ParseAddress(s string) (Address, error) {
	if len(s) > maxAddressInput {
		return Address{}, addressError("is longer than 998 bytes")
	}
	if d := checkText(s); d != "" {
		return Address{}, addressError(d)
	}
	s = strings.Trim(s, " \t")
	if s == "" {
		return Address{}, addressError("is empty")
	}
	var name, spec string
	if strings.HasSuffix(s, ">") {
		lt := openingAngle(s)
		if lt < 0 {
			return Address{}, addressError("has '>' without a matching '<'")
		}
		var d string
		if name, d = parseDisplayName(strings.Trim(s[:lt], " \t")); d != "" {
			return Address{}, addressError(d)
		}
		spec = s[lt+1 : len(s)-1]
	} else {
		spec = s
	}
	addr, d := normalizeAddrSpec(spec)
	if d != "" {
		return Address{}, addressError(d)
	}
	return Address{Name: name, Addr: addr}, nil
}

func addressError(detail string) error {
	return errors.New("address " + detail)
}

// Domain returns the part of Addr after the last '@'.
func (a Address) Domain() string {
	return a.Addr[strings.LastIndexByte(a.Addr, '@')+1:]
}

// String formats the address for a header field, encoding the display name
// per RFC 2047 when it is not plain ASCII. It returns "" for an address that
// does not validate, so that it can never carry header syntax into output.
func (a Address) String() string {
	addr, d := normalizeAddrSpec(a.Addr)
	if d != "" {
		return ""
	}
	name, d := canonicalText(a.Name)
	if d != "" || name == "" {
		return addr
	}
	return encodePhrase(name) + " <" + addr + ">"
}

// openingAngle finds the '<' that starts the angle-addr, skipping any inside
// a quoted display name (RFC 5322 §3.2.4).
func openingAngle(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			return i
		}
	}
	return -1
}

// parseDisplayName accepts either a single quoted-string or a run of
// unquoted words, and returns the decoded text.
func parseDisplayName(s string) (string, string) {
	var raw string
	if strings.HasPrefix(s, "\"") {
		var b strings.Builder
		closed := false
		for i := 1; i < len(s); i++ {
			c := s[i]
			if closed {
				return "", "has text after the quoted display name"
			}
			switch c {
			case '\\': // RFC 5322 §3.2.1 quoted-pair
				if i+1 == len(s) {
					return "", "display name ends in a lone backslash"
				}
				i++
				b.WriteByte(s[i])
			case '"':
				closed = true
			default:
				b.WriteByte(c)
			}
		}
		if !closed {
			return "", "display name has an unterminated quote"
		}
		raw = b.String()
	} else {
		// RFC 5322 §3.2.3 specials, less '.', which obs-phrase (§4.1)
		// allows and names like "Dr. Jones" use.
		if strings.ContainsAny(s, "\"<>@,;:\\()[]") {
			return "", "display name contains special characters and must be quoted"
		}
		raw = s
	}
	name, d := canonicalText(raw)
	if d != "" {
		return "", "display name " + d
	}
	if len(name) > maxDisplayName {
		return "", "display name is longer than 256 bytes"
	}
	return name, ""
}

// normalizeAddrSpec checks an addr-spec (RFC 5322 §3.4.1) and returns it
// with its domain normalised.
func normalizeAddrSpec(spec string) (string, string) {
	if spec == "" {
		return "", "is missing the email address"
	}
	if d := checkText(spec); d != "" {
		return "", d
	}
	at := strings.LastIndexByte(spec, '@')
	if at < 0 {
		return "", "is missing '@' and a domain"
	}
	local, domain := spec[:at], spec[at+1:]
	if d := checkLocalPart(local); d != "" {
		return "", d
	}
	domain, d := normalizeDomain(domain)
	if d != "" {
		return "", d
	}
	addr := local + "@" + domain
	if len(addr) > maxAddrSpec {
		return "", "is longer than 254 bytes"
	}
	return addr, ""
}

// checkLocalPart accepts a dot-atom local part (RFC 5322 §3.2.3). Quoted
// local parts are legal but refused: almost nothing needs them and many
// systems mishandle them. Non-ASCII needs SMTPUTF8 (RFC 6531), which
// delivery cannot count on.
func checkLocalPart(local string) string {
	switch {
	case local == "":
		return "has an empty local part"
	case len(local) > maxLocalPart:
		return "has a local part longer than 64 bytes"
	case local[0] == '"':
		return "has a quoted local part, which is not supported"
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return "has a local part with a misplaced dot"
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c >= utf8.RuneSelf {
			return "has a non-ASCII local part, which is not supported"
		}
		if c != '.' && !isAtext(c) {
			return "has a local part with characters not allowed in an address"
		}
	}
	return ""
}

// normalizeDomain returns the lowercased ASCII form of a host name suitable
// for mail (RFC 5321 §2.3.5: a fully-qualified domain name).
func normalizeDomain(domain string) (string, string) {
	switch {
	case domain == "":
		return "", "has an empty domain"
	case domain[0] == '[':
		return "", "has an address literal as its domain, which is not accepted"
	case strings.HasSuffix(domain, "."):
		return "", "has a domain ending in a dot"
	}
	// UTS #46 lookup processing maps case and converts U-labels to
	// A-labels (RFC 5891 §5); it also verifies existing xn-- labels.
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", "has a domain that is not a valid domain name"
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > maxDomain {
		return "", "has a domain longer than 253 bytes"
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", "has a domain without a dot; a fully-qualified domain is required"
	}
	for _, l := range labels {
		if d := checkLabel(l); d != "" {
			return "", d
		}
	}
	// RFC 3696 §2: a top-level domain is never all-numeric, which also
	// keeps dotted IPv4 addresses out.
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", "has a numeric top-level domain"
	}
	return ascii, ""
}

// checkLabel applies the LDH rule (RFC 1035 §2.3.1, RFC 5890 §2.3.1).
func checkLabel(l string) string {
	switch {
	case l == "":
		return "has a domain with an empty label"
	case len(l) > maxLabel:
		return "has a domain label longer than 63 bytes"
	case l[0] == '-' || l[len(l)-1] == '-':
		return "has a domain label starting or ending with a hyphen"
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return "has a domain label with characters other than letters, digits and hyphens"
		}
	}
	return ""
}
