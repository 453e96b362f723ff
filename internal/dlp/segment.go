package dlp

import (
	"sort"
	"strings"
)

// span is a byte range [start, end) of a segment's text.
type span struct{ start, end int }

func (a span) overlaps(b span) bool { return a.start < b.end && b.start < a.end }

// token is a maximal run of ASCII letters and digits.
type token struct {
	span
	digits bool // the token is only digits
}

// segment is one piece of normalized text with what every detector needs from it.
type segment struct {
	text  string
	lower string // ASCII-lowered copy with the same offsets
	toks  []token
	ctx   [nKinds + 1][]span // context-term occurrences per kind, plus ctxAnti
	urls  []span             // links, whose numbers are ids and timestamps more often than not
}

// How far a context term reaches; see the package documentation. maxTermLen is the
// length of the longest term ("american express").
const (
	ctxBefore  = 48
	ctxAfter   = 24
	maxTermLen = 24
)

// lowerASCII lowers A-Z only, so offsets stay those of s: s itself when it has no
// upper-case letter, otherwise one copy (the builder hands over its bytes).
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func newSegment(text string, terms termTable) *segment {
	sg := &segment{text: text, lower: lowerASCII(text)}
	n := 0 // count first: growing the slice by doubling would allocate twice the memory
	for i := 0; i < len(text); i++ {
		if isAlnum(text[i]) && (i == 0 || !isAlnum(text[i-1])) {
			n++
		}
	}
	sg.toks = make([]token, 0, n)
	for i := 0; i < len(text); {
		if !isAlnum(text[i]) {
			i++
			continue
		}
		t := token{span: span{start: i}, digits: true}
		for ; i < len(text) && isAlnum(text[i]); i++ {
			if !isDigit(text[i]) {
				t.digits = false
			}
		}
		t.end = i
		sg.toks = append(sg.toks, t)
	}
	sg.findTerms(terms)
	sg.findURLs()
	return sg
}

// findURLs records where links are written out in the text.
func (sg *segment) findURLs() {
	for i := 0; i < len(sg.lower); {
		j := strings.Index(sg.lower[i:], "http")
		if j < 0 {
			return
		}
		start := i + j
		rest := sg.lower[start:]
		if !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") {
			i = start + 4
			continue
		}
		end := start
		for end < len(sg.text) && sg.text[end] > ' ' && sg.text[end] != '"' && sg.text[end] != '<' && sg.text[end] != '>' {
			end++
		}
		sg.urls = append(sg.urls, span{start, end})
		i = end
	}
}

// inURL reports whether s lies inside a link.
func (sg *segment) inURL(s span) bool {
	i := sort.Search(len(sg.urls), func(i int) bool { return sg.urls[i].end >= s.end })
	return i < len(sg.urls) && sg.urls[i].start <= s.start
}

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// findTerms records every context-term occurrence, in text order per kind.
func (sg *segment) findTerms(terms termTable) {
	for i, t := range sg.toks {
		if t.digits {
			continue
		}
		for _, p := range terms[sg.lower[t.start:t.end]] {
			last, ok := sg.follows(i, p.rest)
			if !ok {
				continue
			}
			occ := span{t.start, sg.toks[last].end}
			for k := range nKinds + 1 {
				if p.kinds&(1<<k) != 0 {
					sg.ctx[k] = append(sg.ctx[k], occ)
				}
			}
		}
	}
}

// follows reports whether the tokens after i spell rest, each separated from the one
// before by at most two characters on the same line ("date of birth", "d.o.b.").
func (sg *segment) follows(i int, rest []string) (last int, ok bool) {
	for _, w := range rest {
		if i+1 >= len(sg.toks) {
			return 0, false
		}
		prev, next := sg.toks[i], sg.toks[i+1]
		gap := sg.text[prev.end:next.start]
		if len(gap) > 2 || strings.IndexByte(gap, '\n') >= 0 || sg.lower[next.start:next.end] != w {
			return 0, false
		}
		i++
	}
	return i, true
}

// spaced reports whether the tokens after i spell rest, separated by white space only.
func (sg *segment) spaced(i int, rest []string) (last int, ok bool) {
	for _, w := range rest {
		if i+1 >= len(sg.toks) {
			return 0, false
		}
		gap := sg.text[sg.toks[i].end:sg.toks[i+1].start]
		if strings.TrimSpace(gap) != "" || sg.lower[sg.toks[i+1].start:sg.toks[i+1].end] != w {
			return 0, false
		}
		i++
	}
	return i, true
}

// near reports whether an occurrence in occ binds to candidate c. Neighbouring
// candidates of the same kind end at lo (before c) and start at hi (after c); a term
// never binds across them.
func (sg *segment) near(occ []span, c span, lo, hi int) bool {
	lo = max(lo, 0)
	from := max(c.start-ctxBefore, lo) // where a term before c must end
	i := sort.Search(len(occ), func(i int) bool { return occ[i].start >= max(from-maxTermLen, lo) })
	to := min(c.end+ctxAfter, hi)
	for ; i < len(occ) && occ[i].start < to; i++ {
		o := occ[i]
		switch {
		case o.end <= c.start:
			between := sg.text[o.end:c.start]
			if o.end >= from && strings.Count(between, "\n") <= 1 && clauseEnd(between, false) < 0 {
				return true
			}
		case o.start >= c.end:
			// After the value only a label on the same clause: "123-45-6789 (SSN)".
			if o.end <= to && !strings.ContainsAny(sg.text[c.end:o.start], "\n.;!?") {
				return true
			}
		case o.start >= c.start && o.end <= c.end:
			return true // the candidate spells its own context, as in a pattern "MRN-\d+"
		}
	}
	return false
}

// reach returns where a search forward from pos for the value a context term names
// ends: at most n bytes, at most one line break and no clause end further. With lists
// set, a semicolon continues a list instead of ending the clause.
func (sg *segment) reach(pos, n int, lists bool) int {
	end := min(pos+n, len(sg.text))
	if nl := strings.IndexByte(sg.text[pos:end], '\n'); nl >= 0 {
		if nl2 := strings.IndexByte(sg.text[pos+nl+1:end], '\n'); nl2 >= 0 {
			end = pos + nl + 1 + nl2
		}
	}
	if e := clauseEnd(sg.text[pos:end], lists); e >= 0 {
		end = pos + e
	}
	return end
}

// clauseEnd returns the offset of the first clause end in s, or -1: a semicolon, or a
// full stop, question or exclamation mark followed by space and a capital letter. The
// punctuation that leads s ("DOB. ", "Dx: ") belongs to the term before and is skipped.
// A term in one sentence does not name a value in the next: "DOB: not given. Seen
// 03/04/2021".
func clauseEnd(s string, lists bool) int {
	i := 0
	for i < len(s) && !isAlnum(s[i]) {
		i++
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case ';':
			if !lists {
				return i
			}
		case '.', '!', '?':
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			if j > i+1 && j < len(s) && isUpper(s[j]) {
				return i
			}
		}
	}
	return -1
}

// adjacentBefore reports whether only a little punctuation or space on the same line
// separates a value ending at end from a term starting at start: "03/04/1975 (DOB)".
func (sg *segment) adjacentBefore(end, start int) bool {
	if start < end || start-end > 4 {
		return false
	}
	for _, c := range []byte(sg.text[end:start]) {
		if c != ' ' && c != '(' && c != '[' && c != '-' && c != ',' && c != ':' {
			return false
		}
	}
	return true
}

// tokenAt returns the index of the first token starting at or after pos.
func (sg *segment) tokenAt(pos int) int {
	return sort.Search(len(sg.toks), func(i int) bool { return sg.toks[i].start >= pos })
}

// isBoundary reports whether a value at s is not part of a longer word or number: the
// bytes around it are not letters or digits, nor a separator glued to another digit as
// in "3.14159", "1,000" or "12/05".
func (sg *segment) isBoundary(s span) bool {
	t := sg.text
	if s.start > 0 {
		c := t[s.start-1]
		if isAlnum(c) || c == '_' {
			return false
		}
		if s.start > 1 && gluing(c, t[s.start-2]) {
			return false
		}
	}
	if s.end < len(t) {
		c := t[s.end]
		if isAlnum(c) || c == '_' {
			return false
		}
		if s.end+1 < len(t) && gluing(c, t[s.end+1]) {
			return false
		}
	}
	return true
}

// gluing reports whether separator sep next to byte other makes them one larger token.
func gluing(sep, other byte) bool {
	switch sep {
	case '.', ',':
		return isDigit(other)
	case '/', '_', '@':
		return isAlnum(other)
	}
	return false
}
