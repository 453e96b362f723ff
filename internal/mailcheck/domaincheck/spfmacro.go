package domaincheck

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// macroEnv holds the values SPF macros expand to (RFC 7208 7.2).
type macroEnv struct {
	sender string // s, l, o
	domain string // d
	ip     net.IP // i, v
	helo   string // h
}

// expandMacros expands the macros in s; with a zero env it only checks the
// syntax.
func expandMacros(s string, env macroEnv) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New(`"%" at the end of the string`)
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case '_':
			b.WriteByte(' ')
		case '-':
			b.WriteString("%20")
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", errors.New(`macro without closing "}"`)
			}
			v, err := expandOne(s[i+1:i+end], env)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += end
		default:
			return "", fmt.Errorf(`"%%%c" is not a macro; write "%%%%" for a literal "%%"`, s[i])
		}
	}
	return b.String(), nil
}

// expandOne expands the inside of one "%{...}" macro.
func expandOne(m string, env macroEnv) (string, error) {
	if m == "" {
		return "", errors.New("empty macro")
	}
	local, dom, _ := strings.Cut(env.sender, "@")
	var v string
	switch m[0] | 0x20 { // letters are case-insensitive; upper case asks for URL escaping in exp
	case 's':
		v = env.sender
	case 'l':
		v = local
	case 'o':
		v = dom
	case 'd':
		v = env.domain
	case 'h':
		v = env.helo
	case 'p':
		v = "unknown"
	case 'i', 'c':
		v = ipMacro(env.ip, m[0]|0x20 == 'i')
	case 'v':
		v = "in-addr"
		if env.ip != nil && env.ip.To4() == nil {
			v = "ip6"
		}
	case 'r', 't':
		v = "unknown"
	default:
		return "", fmt.Errorf("unknown macro letter %q", m[0])
	}
	rest := m[1:]
	seps := strings.TrimLeft(rest, "0123456789")
	keep, _ := strconv.Atoi(rest[:len(rest)-len(seps)])
	if len(rest) > len(seps) && keep == 0 {
		return "", errors.New("macro keeps zero labels")
	}
	reverse := strings.HasPrefix(strings.ToLower(seps), "r")
	if reverse {
		seps = seps[1:]
	}
	if strings.Trim(seps, ".-+,/_=") != "" {
		return "", fmt.Errorf("bad macro transformer %q", m[1:])
	}
	if seps == "" {
		seps = "."
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) })
	if reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if keep > 0 && keep < len(parts) {
		parts = parts[len(parts)-keep:]
	}
	return strings.Join(parts, "."), nil
}

// ipMacro writes ip as %{i} (dotted quad or dotted nibbles) or %{c}.
func ipMacro(ip net.IP, nibbles bool) string {
	if ip == nil {
		return ""
	}
	if v4 := ip.To4(); v4 != nil || !nibbles {
		return ip.String()
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i, c := range ip.To16() {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteByte(hex[c>>4])
		b.WriteByte('.')
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
