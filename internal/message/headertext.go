package message

import (
	"encoding/base64"
	"mime"
	"strings"
	"unicode/utf8"
)

const (
	// maxPlainWord is the longest run without whitespace that is written
	// unencoded. Folding (RFC 5322 §2.2.3) can only break at whitespace, so a
	// longer run could not be kept under 998 characters per line once the
	// field name is in front of it.
	maxPlainWord = 900

	// encodedChunk is how many bytes of text go into one encoded-word:
	// base64 of 36 bytes is 48 characters, plus "=?utf-8?b?" and "?=" gives
	// 60, under the 75 allowed by RFC 2047 §2 and short enough that
	// "Subject: " and one word fit the 76 characters it recommends per line.
	encodedChunk = 36
)

// Problems with a header-bound string. They are phrased to follow a field
// path ("subject: ...") and never quote the value.
const (
	detailLineBreak   = "must not contain line breaks or NUL characters"
	detailControl     = "must not contain control characters"
	detailUTF8        = "must be valid UTF-8"
	detailCharset     = "uses an encoded-word charset other than UTF-8, US-ASCII or ISO-8859-1"
	detailNestedWords = "contains encoded-words nested inside encoded-words"
)

// hasBreakOrNUL reports the characters that end a header line or terminate
// strings in other software: the core of header injection.
func hasBreakOrNUL(s string) bool {
	return strings.ContainsAny(s, "\r\n\x00")
}

// hasControl reports C0 controls other than HTAB, and DEL. RFC 5322 §3.2.5
// unstructured text is VCHAR and WSP only.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

// checkText applies the rules shared by every header-bound string to s as
// given. It returns "" when s is acceptable.
func checkText(s string) string {
	switch {
	case hasBreakOrNUL(s):
		return detailLineBreak
	case !utf8.ValidString(s):
		return detailUTF8
	case hasControl(s):
		return detailControl
	}
	return ""
}

// canonicalText returns the text a header-bound string stands for. Callers
// may pre-encode values as RFC 2047 encoded-words; the decoded text is what a
// recipient sees, so it is what gets checked and what Write emits (encoding
// it again where needed). The second result is "" or a problem description.
func canonicalText(s string) (string, string) {
	if d := checkText(s); d != "" {
		return "", d
	}
	var dec mime.WordDecoder // RFC 2047 §6; UTF-8, US-ASCII and ISO-8859-1
	text, err := dec.DecodeHeader(s)
	if err != nil {
		return "", detailCharset
	}
	if text == s {
		return s, ""
	}
	if d := checkText(text); d != "" {
		return "", d
	}
	// A value that decodes a second time would reach some readers as
	// different text than was checked here.
	again, err := dec.DecodeHeader(text)
	if err != nil || again != text {
		return "", detailNestedWords
	}
	return text, ""
}

// isPlainText reports whether s can be written as is and read back
// unchanged: printable ASCII words separated by single spaces. Readers unfold
// by collapsing whitespace around line breaks and trim the ends (RFC 5322
// §2.2.3), so anything else goes through encoded-words.
func isPlainText(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return s == ""
	}
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			if run == 0 {
				return false // two spaces in a row
			}
			run = 0
		case c < 0x21 || c > 0x7e:
			return false
		default:
			run++
			if run > maxPlainWord {
				return false
			}
		}
	}
	return true
}

// encodeText renders canonical text for an unstructured field (RFC 5322
// §3.2.5) such as Subject.
func encodeText(s string) string {
	if isPlainText(s) {
		return s
	}
	return encodeWords(s)
}

// encodeWords encodes s as a sequence of "B" encoded-words (RFC 2047 §4.1)
// separated by spaces, which readers drop between adjacent encoded-words
// (RFC 2047 §6.2), so s comes back exactly. B is used rather than Q because
// it is valid in every position RFC 2047 §5 allows, phrases included.
func encodeWords(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		n := min(len(s), encodedChunk)
		// RFC 2047 §5: each encoded-word must hold whole characters.
		for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?utf-8?b?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString("?=")
		s = s[n:]
	}
	return b.String()
}

// isAtext reports RFC 5322 §3.2.3 atext for ASCII bytes.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// encodePhrase renders a display name (RFC 5322 §3.2.5 phrase): atoms when
// possible, a quoted-string for other plain ASCII, encoded-words otherwise
// (RFC 2047 §5 (3)).
func encodePhrase(name string) string {
	if !isPlainText(name) {
		return encodeWords(name)
	}
	atoms := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c != ' ' && !isAtext(c) {
			atoms = false
			break
		}
	}
	if atoms {
		return name
	}
	// RFC 5322 §3.2.4: inside a quoted-string only DQUOTE and backslash
	// need a quoted-pair.
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	b.WriteByte('"')
	return b.String()
}

// longestRun returns the length of the longest run without spaces or tabs.
func longestRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			run = 0
			continue
		}
		run++
		best = max(best, run)
	}
	return best
}
