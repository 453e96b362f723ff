package dlp

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// normalize undoes the encodings that hide a number from a plain reading: leftover
// quoted-printable, HTML character references (when entities is set) and look-alike
// Unicode digits, spaces and dashes.
func normalize(s string, entities bool) string {
	if looksQP(s) {
		s = decodeQP(s)
	}
	if entities && strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return unwrapHyphens(foldUnicode(s))
}

// unwrapHyphens rejoins a word or number that a line break split right after a hyphen,
// "CLM-\n123456" or "1980-\n08-12", so that tenant expressions and dates see it whole.
func unwrapHyphens(s string) string {
	if !strings.Contains(s, "-\n") && !strings.Contains(s, "-\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '-' || i == 0 || !isAlnum(s[i-1]) {
			continue
		}
		j := i + 1
		if j < len(s) && s[j] == '\r' {
			j++
		}
		if j+1 < len(s) && s[j] == '\n' && isAlnum(s[j+1]) {
			i = j
		}
	}
	return b.String()
}

// looksQP reports whether text still carries quoted-printable encoding: a soft line
// break, or "=3D", the encoded "=" that every quoted-printable HTML part is full of.
func looksQP(s string) bool {
	if strings.Contains(s, "=3D") {
		return true
	}
	for i := strings.IndexByte(s, '='); i >= 0; {
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') { // RFC 2045 6.7 (3) transport padding
			j++
		}
		if j < len(s) && (s[j] == '\n' || s[j] == '\r') {
			return true
		}
		k := strings.IndexByte(s[j:], '=')
		if k < 0 {
			return false
		}
		i = j + k
	}
	return false
}

// decodeQP decodes quoted-printable leniently: malformed escapes are kept as they are.
func decodeQP(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' {
			b.WriteByte(c)
			continue
		}
		// RFC 2045 6.7 (5): a soft line break is "=" at the end of a line, possibly
		// followed by transport padding (spaces or tabs) added in transit.
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && s[j] == '\n' {
			i = j
			continue
		}
		if j+1 < len(s) && s[j] == '\r' && s[j+1] == '\n' {
			i = j + 1
			continue
		}
		// RFC 2045 6.7 (1): "=" followed by two hexadecimal digits is one octet.
		if i+2 < len(s) {
			if hi, ok := unhex(s[i+1]); ok {
				if lo, ok := unhex(s[i+2]); ok {
					b.WriteByte(hi<<4 | lo)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// foldUnicode maps full-width digits to ASCII, Unicode spaces to a space and Unicode
// dashes to "-", and drops invisible characters (zero-width spaces, soft hyphens) that
// can be slipped between digits.
func foldUnicode(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r == 0xa0, r == 0x1680, r >= 0x2000 && r <= 0x200a, r == 0x202f, r == 0x205f, r == 0x3000:
			b.WriteByte(' ')
		case r >= 0x2010 && r <= 0x2015, r == 0x2212, r == 0xfe63, r == 0xff0d:
			b.WriteByte('-')
		case r == 0xad, r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff:
			// invisible: drop
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// decodeText turns attachment bytes into text, honouring a UTF-16 or UTF-8 byte order
// mark (spreadsheet exports are often UTF-16, which puts a NUL between ASCII digits).
func decodeText(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		return string(data[3:])
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return utf16String(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return utf16String(data[2:], true)
	}
	return string(data)
}

func utf16String(data []byte, bigEndian bool) string {
	units := make([]uint16, len(data)/2)
	for i := range units {
		a, b := uint16(data[2*i]), uint16(data[2*i+1])
		if bigEndian {
			units[i] = a<<8 | b
		} else {
			units[i] = b<<8 | a
		}
	}
	return string(utf16.Decode(units))
}

// looksText reports whether bytes of unknown type are text worth scanning: no NUL and
// mostly printable in the first kilobyte.
func looksText(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return true
	}
	head := data[:min(len(data), 1024)]
	if len(head) == 0 || bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	bad := 0
	for len(head) > 0 {
		r, n := utf8.DecodeRune(head)
		if r == utf8.RuneError && n == 1 && len(head) > 3 || r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			bad++
		}
		head = head[n:]
	}
	return bad*20 < len(data[:min(len(data), 1024)])
}
