package dlp

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// Text can carry PHI in an encoding no mail program undoes but any recipient can:
// "data: U1NOIDUzNi0yMi0xMjM0" is "SSN 536-22-1234", "=53=53=4E=20=35..." is the same
// in quoted-printable. embedded finds such runs in text, decodes those that turn into
// readable text and scans the result like the text around it. The work is bounded: a
// run must be long enough to hold a labelled identifier, only a readable prefix earns a
// full decode, encodings are undone at most maxEmbedDepth deep, and the decoded text of
// one message is capped (Limits.MaxDecodedBytes); past the cap the scan is incomplete.

const (
	minB64Run     = 12 // shortest base64 run tried: 9 bytes, a bare SSN
	minQPEscapes  = 3  // "=XX" escapes a quoted-printable run needs before it is tried
	maxEmbedDepth = 2  // encodings undone inside one another
	// A base64 line at least this long, a whole number of quanta, that ends its line
	// may go on on the next: blobs are wrapped at 64 or 76 characters.
	b64WrapMin = 40
	probeB64   = 1368 // base64 characters decoded to judge a run before decoding it all
)

// embedded scans what base64 and quoted-printable runs in t decode to; depth counts the
// encodings already undone to reach t (1 for a part's own text).
func (sc *scan) embedded(t string, depth int) {
	if depth > maxEmbedDepth {
		return
	}
	for i := 0; i < len(t) && sc.budget > 0 && sc.decodeLeft > 0; {
		run, url, start, next := base64Run(t, i)
		i = next
		if len(run) >= minB64Run && !plainWord(run) {
			if d, ok := decodeB64(run, url); ok {
				sc.decoded(d, depth, inLink(t, start))
			}
		}
	}
	for i := 0; i < len(t) && sc.budget > 0 && sc.decodeLeft > 0; {
		start, end, escapes := qpRun(t, i)
		if start < 0 {
			break
		}
		i = end
		if escapes >= minQPEscapes {
			if d := decodeQP(t[start:end]); readable(d) {
				sc.decoded(d, depth, false)
			}
		}
	}
}

// decoded scans readable decoded text, then the encodings inside it. What a link
// carries (a session token is base64 JSON full of ids and timestamps) counts only with
// a context term, as numbers in a link do.
func (sc *scan) decoded(d string, depth int, link bool) {
	if link {
		sc.linkDepth++
		defer func() { sc.linkDepth-- }()
	}
	if int64(len(d)) > sc.decodeLeft {
		sc.incomplete = true
		d = d[:sc.decodeLeft]
	}
	sc.decodeLeft -= int64(len(d))
	d = normalize(d, true)
	sc.chunks(d[:sc.take(len(d))])
	sc.embedded(d, depth+1)
}

func isB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// base64Run returns the base64 run that starts at or after i (without padding and line
// breaks), whether it uses the URL alphabet, and where to look for the next one. A run
// mixing both alphabets is returned empty: it is words and dashes, not base64.
func base64Run(t string, i int) (run string, url bool, start, next int) {
	for i < len(t) && !isB64(t[i]) {
		i++
	}
	start = i
	var b strings.Builder
	std, urlOnly := false, false
	line := i // start of the current line's piece of the run
scan:
	for i < len(t) {
		c := t[i]
		switch {
		case isB64(c):
			std = std || c == '+' || c == '/'
			urlOnly = urlOnly || c == '-' || c == '_'
			i++
		case c == '\n' || c == '\r' && i+1 < len(t) && t[i+1] == '\n':
			j := i + 1
			if c == '\r' {
				j++
			}
			n := i - line
			if n < b64WrapMin || n%4 != 0 || j >= len(t) || !isB64(t[j]) {
				break scan
			}
			b.WriteString(t[line:i])
			i, line = j, j
		default:
			break scan
		}
	}
	if b.Len() == 0 && i-start < minB64Run {
		return "", false, start, max(i, start+1)
	}
	run = t[start:i] // one line: no copy
	if b.Len() > 0 {
		b.WriteString(t[line:i])
		run = b.String()
	}
	for pad := 0; pad < 2 && i < len(t) && t[i] == '='; pad++ { // padding ends the run
		i++
	}
	if std && urlOnly {
		return "", false, start, i
	}
	return run, urlOnly, start, i
}

// inLink reports whether the word holding t[i] is a link.
func inLink(t string, i int) bool {
	w := strings.LastIndexAny(t[:i], " \t\r\n<>\"'()") + 1
	word := strings.ToLower(t[w:i])
	return strings.Contains(word, "://") || strings.HasPrefix(word, "www.")
}

// plainWord reports whether a run is an ordinary word ("administrator",
// "Hydrochlorothiazide"): letters with no capital after the first and no digit, '+' or
// '/'. Base64 of a dozen or more bytes of text is practically never that, and skipping
// words spares a decode attempt for every long word of a letter.
func plainWord(run string) bool {
	for i := 0; i < len(run); i++ {
		c := run[i]
		if c >= '0' && c <= '9' || c == '+' || c == '/' || c >= 'A' && c <= 'Z' && i > 0 {
			return false
		}
	}
	return true
}

// decodeB64 decodes a run if what it holds reads as text: its first bytes are checked
// before the whole run is decoded, so a long binary blob costs little.
func decodeB64(run string, url bool) (string, bool) {
	if len(run)%4 == 1 {
		run = run[:len(run)-1] // a stray character glued to the end
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	head := run[:min(len(run), probeB64)]
	buf := make([]byte, enc.DecodedLen(len(head)))
	n, _ := enc.Decode(buf, []byte(head))
	if n < minB64Run*3/4 || !readable(string(buf[:n])) {
		return "", false
	}
	if len(head) == len(run) {
		return string(buf[:n]), true
	}
	buf = make([]byte, enc.DecodedLen(len(run)))
	n, _ = enc.Decode(buf, []byte(run))
	return string(buf[:n]), true
}

// qpRun finds the next stretch of whitespace-separated words at or after i that carry
// "=XX" escapes (upper-case hexadecimal, as RFC 2045 6.7 writes them), and counts them.
// Soft line breaks join the words on either side. start is -1 when there is none.
func qpRun(t string, i int) (start, end, escapes int) {
	start = -1
	for i < len(t) {
		ws := i
		for ws < len(t) && (t[ws] == ' ' || t[ws] == '\t' || t[ws] == '\n' || t[ws] == '\r') {
			ws++
		}
		we := ws
		n := 0
		for we < len(t) && t[we] != ' ' && t[we] != '\t' && t[we] != '\n' && t[we] != '\r' {
			if t[we] == '=' && we+2 < len(t) && isUpperHex(t[we+1]) && isUpperHex(t[we+2]) {
				n++
				we += 3
				continue
			}
			we++
		}
		if we == ws {
			break
		}
		if n == 0 {
			if start >= 0 {
				return start, end, escapes
			}
			i = we
			continue
		}
		if start < 0 {
			start = ws
		}
		end, escapes, i = we, escapes+n, we
	}
	return start, end, escapes
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// readable reports whether decoded bytes are text: valid UTF-8, at most one in twenty
// characters a control character, and some letters or digits. Random bytes almost never
// pass: each is printable ASCII with odds of about three in eight.
func readable(d string) bool {
	if len(d) < 8 {
		return false
	}
	bad, alnum, n := 0, 0, 0
	for _, r := range d {
		n++
		switch {
		case r == utf8.RuneError, r < 0x20 && r != '\n' && r != '\r' && r != '\t', r == 0x7f:
			bad++
		case r < 0x80 && isAlnum(byte(r)): // #nosec G115 -- below 0x80 a rune fits in a byte
			alnum++
		}
	}
	return bad*20 < n && alnum*4 >= n
}
