package domaincheck

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// spfTerm is one directive or modifier of an SPF record (RFC 7208 4.6.1).
type spfTerm struct {
	qual   byte   // '+', '-', '~' or '?'; 0 for a modifier
	name   string // mechanism or modifier name, lower case
	arg    string // domain-spec, IP text or modifier value; "" when absent
	ipnet  *net.IPNet
	cidr4  int // a/mx prefix lengths; -1 when absent
	cidr6  int
	source string // the term as written
}

// spfRecord is a parsed "v=spf1" record.
type spfRecord struct {
	terms    []spfTerm // mechanisms in order
	redirect string    // redirect= domain-spec, "" when absent
	exp      string
}

// parseSPF parses an SPF record strictly, as RFC 7208 requires: any syntax
// error is a permerror for every receiver (4.6).
func parseSPF(s string) (*spfRecord, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && (c < 0x21 || c > 0x7e) {
			return nil, fmt.Errorf("character %q at offset %d is not allowed; terms are separated by spaces only", c, i)
		}
	}
	fields := strings.Fields(s)
	if len(fields) == 0 || !strings.EqualFold(fields[0], "v=spf1") {
		return nil, errors.New(`record does not start with "v=spf1"`)
	}
	rec := &spfRecord{}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		if name, value, ok := splitModifier(f); ok {
			name = strings.ToLower(name)
			if err := checkDomainSpec(value, name == "redirect" || name == "exp"); err != nil {
				return nil, fmt.Errorf("modifier %q: %w", f, err)
			}
			if (name == "redirect" || name == "exp") && seen[name] {
				return nil, fmt.Errorf("modifier %q appears more than once", name)
			}
			seen[name] = true
			switch name {
			case "redirect":
				rec.redirect = value
			case "exp":
				rec.exp = value
			}
			continue
		}
		t, err := parseMechanism(f)
		if err != nil {
			return nil, fmt.Errorf("term %q: %w", f, err)
		}
		rec.terms = append(rec.terms, t)
	}
	return rec, nil
}

// splitModifier reports whether term is a modifier: a name of letters,
// digits, "-", "_" and "." starting with a letter, then "=" (RFC 7208 12).
func splitModifier(term string) (name, value string, ok bool) {
	i := strings.IndexAny(term, "=:/")
	if i <= 0 || term[i] != '=' {
		return "", "", false
	}
	name = term[:i]
	for j := 0; j < len(name); j++ {
		c := name[j]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (j == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
			return "", "", false
		}
	}
	return name, term[i+1:], true
}

func parseMechanism(f string) (spfTerm, error) {
	t := spfTerm{qual: '+', cidr4: -1, cidr6: -1, source: f}
	if strings.ContainsRune("+-~?", rune(f[0])) {
		t.qual, f = f[0], f[1:]
	}
	end := strings.IndexAny(f, ":/")
	if end < 0 {
		end = len(f)
	}
	t.name, f = strings.ToLower(f[:end]), f[end:]
	switch t.name {
	case "all":
		if f != "" {
			return t, errors.New(`"all" takes no argument`)
		}
	case "include", "exists":
		if !strings.HasPrefix(f, ":") {
			return t, fmt.Errorf("%q needs a domain, as in %s:example.com", t.name, t.name)
		}
		t.arg = f[1:]
		return t, checkDomainSpec(t.arg, true)
	case "a", "mx", "ptr":
		if t.name != "ptr" {
			var err error
			if f, t.cidr6, err = cutCIDR(f, "//", 128); err != nil {
				return t, err
			}
			if f, t.cidr4, err = cutCIDR(f, "/", 32); err != nil {
				return t, err
			}
		}
		if f == "" {
			return t, nil
		}
		if f[0] != ':' {
			return t, fmt.Errorf("unexpected %q after %q", f, t.name)
		}
		t.arg = f[1:]
		return t, checkDomainSpec(t.arg, true)
	case "ip4", "ip6":
		if !strings.HasPrefix(f, ":") {
			return t, fmt.Errorf("%q needs an address", t.name)
		}
		t.arg = f[1:]
		addr, bits, hasBits := strings.Cut(t.arg, "/")
		ip := net.ParseIP(addr)
		size := 32
		if t.name == "ip6" {
			size = 128
		}
		if ip == nil || strings.Contains(addr, ":") != (t.name == "ip6") {
			return t, fmt.Errorf("%q is not an IPv%c address", addr, t.name[2])
		}
		n := size
		if hasBits {
			var err error
			if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > size || bits != strconv.Itoa(n) {
				return t, fmt.Errorf("bad prefix length %q", bits)
			}
		}
		if size == 32 {
			ip = ip.To4()
		}
		t.ipnet = &net.IPNet{IP: ip.Mask(net.CIDRMask(n, size)), Mask: net.CIDRMask(n, size)}
	default:
		return t, fmt.Errorf("unknown mechanism %q", t.name)
	}
	return t, nil
}

// cutCIDR removes a trailing sep+digits from s, e.g. "/24" or "//64".
func cutCIDR(s, sep string, size int) (rest string, n int, err error) {
	i := strings.LastIndex(s, sep)
	if i < 0 || (sep == "/" && i > 0 && s[i-1] == '/') {
		return s, -1, nil
	}
	digits := s[i+len(sep):]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return s, -1, nil
	}
	n, err = strconv.Atoi(digits)
	if err != nil || n > size || digits != strconv.Itoa(n) {
		return s, -1, fmt.Errorf("bad prefix length %q", sep+digits)
	}
	return s[:i], n, nil
}

// checkDomainSpec validates a macro-string and, for a domain-spec, the
// domain-end rule: a final label that is a top-level label or a macro.
func checkDomainSpec(spec string, isDomain bool) error {
	if _, err := expandMacros(spec, macroEnv{}); err != nil {
		return err
	}
	if !isDomain {
		return nil
	}
	if spec == "" {
		return errors.New("empty domain")
	}
	if strings.HasSuffix(spec, "}") {
		return nil
	}
	s := strings.TrimSuffix(spec, ".")
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return fmt.Errorf("%q is not a fully qualified domain", spec)
	}
	top := s[dot+1:]
	if top == "" || top[0] == '-' || top[len(top)-1] == '-' || strings.Trim(top, "0123456789") == "" ||
		strings.Trim(strings.ToLower(top), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return fmt.Errorf("%q does not end in a valid top-level label", spec)
	}
	return nil
}
