package dlp

import "strings"

// ICD-10-CM codes ("E11.9", "S72.001A", "F32A") look like product codes, so a code is a
// candidate only in a list that a diagnosis term introduces: within 64 bytes after the
// term, the window growing by 32 bytes past each code found ("Dx: E11.9, I10, Z79.4"),
// or just before the term ("E11.9 (dx)").

// diagnoses adds the ICD-10-CM codes of a segment as hits.
func diagnoses(sg *segment, add func(hit)) {
	done := -1 // end of the last code added, so overlapping windows add a code once
	next := 0  // tokens before this one were examined by an earlier window
	for _, o := range sg.ctx[kICD] {
		// The code before the term is one or two tokens ("I10", "E11" "." "9").
		for i := sg.tokenAt(o.start) - 1; i >= 0 && i >= sg.tokenAt(o.start)-2; i-- {
			if s, v, ok := icdAt(sg, i); ok && s.start >= done && sg.adjacentBefore(s.end, o.start) {
				add(hit{span: s, kind: kICD, lvl: lvlHigh, ctx: true, canon: true, value: v})
				done = s.end
				break
			}
		}
		to := sg.reach(o.end, 64, false)
		i := max(sg.tokenAt(o.end), next)
		for ; i < len(sg.toks) && sg.toks[i].start < to; i++ {
			s, v, ok := icdAt(sg, i)
			if !ok {
				continue
			}
			if s.start >= done {
				add(hit{span: s, kind: kICD, lvl: lvlHigh, ctx: true, canon: true, value: v})
				done = s.end
			}
			to = max(to, sg.reach(s.end, 32, true))
		}
		next = i
	}
}

// icdAt reads a code starting at token i: the category token and, after a dot, the
// subcategory token. The value is returned without the dot.
func icdAt(sg *segment, i int) (span, string, bool) {
	t := sg.toks[i]
	raw := sg.text[t.start:t.end]
	if len(raw) < 3 || len(raw) > 7 || isDigit(raw[0]) || !isDigit(raw[1]) {
		return span{}, "", false // before allocating the upper-case copy
	}
	cat := strings.ToUpper(raw)
	s, code := t.span, cat
	if len(cat) == 3 && i+1 < len(sg.toks) {
		n := sg.toks[i+1]
		if n.start == t.end+1 && sg.text[t.end] == '.' && n.end-n.start <= 4 {
			s.end, code = n.end, cat+strings.ToUpper(sg.text[n.start:n.end])
		}
	}
	if !validICD(code) || !sg.isBoundary(s) {
		return span{}, "", false
	}
	return s, code, true
}

// validICD checks an ICD-10-CM code without its dot against the code structure: a
// chapter letter, two category characters inside that chapter's range, then up to four
// characters of subcategory and extension.
func validICD(c string) bool {
	if len(c) < 3 || len(c) > 7 || !isUpper(c[0]) || !isDigit(c[1]) {
		return false
	}
	for i := 3; i < len(c); i++ {
		if !isDigit(c[i]) && !isUpper(c[i]) {
			return false
		}
	}
	if !isDigit(c[2]) {
		// Only a few categories have a letter in third place.
		switch c[:3] {
		case "C4A", "C7A", "C7B", "D3A", "M1A", "O9A", "Z3A":
			return true
		}
		return false
	}
	n := atoi(c[1:3])
	switch c[0] {
	case 'E':
		return n <= 89
	case 'H':
		return n <= 95
	case 'K':
		return n <= 95
	case 'P':
		return n <= 96
	case 'T':
		return n <= 88
	case 'U':
		// The U chapter is reserved; the CM uses only U07.0, U07.1 and U09.9.
		switch c {
		case "U07", "U070", "U071", "U09", "U099":
			return true
		}
		return false
	}
	return true
}
