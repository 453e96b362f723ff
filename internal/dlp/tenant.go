package dlp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMatches bounds the matches one tenant expression contributes per segment, so a
// pattern that matches everywhere cannot fill memory with match positions.
const maxMatches = 10000

// records adds medical record numbers: matches of the tenant's patterns (rated like any
// other candidate) and, after an MRN term, the identifier that the term introduces.
func records(s *Scanner, sg *segment, c *candidates, add func(hit)) {
	for _, re := range s.mrn {
		for _, m := range re.FindAllStringIndex(sg.text, maxMatches) {
			sp := span{m[0], m[1]}
			if sg.isBoundary(sp) {
				c.add(kMRN, sp, true, recordValue(sg.text[m[0]:m[1]]))
			}
		}
	}
	for _, o := range sg.ctx[kMRN] {
		if sp, v, ok := introduced(sg, o); ok {
			add(hit{span: sp, kind: kMRN, lvl: lvlMedium, ctx: true, value: v})
		}
	}
}

// filler are words allowed between an MRN term and its value: "MRN is", "patient ID no.".
func filler(w string) bool {
	switch w {
	case "number", "no", "num", "nbr", "is", "id", "of", "the", "patient", "pt", "for", "was", "record", "records":
		return true
	}
	return false
}

// introduced returns the identifier right after a term: the first word that is not
// filler, if it has a letter-digit shape (dash-joined groups, 5 to 20 characters, at
// least 4 digits) and is not a date.
func introduced(sg *segment, o span) (span, string, bool) {
	to := sg.reach(o.end, 32, false)
	i := sg.tokenAt(o.end)
	for i < len(sg.toks) && sg.toks[i].start < to && !sg.toks[i].digits && filler(sg.lower[sg.toks[i].start:sg.toks[i].end]) {
		i++
	}
	if i >= len(sg.toks) || sg.toks[i].start >= to {
		return span{}, "", false
	}
	sp := sg.toks[i].span
	for j := i + 1; j < len(sg.toks) && sg.toks[j].start == sp.end+1 && sg.text[sp.end] == '-'; j++ {
		sp.end = sg.toks[j].end
	}
	raw := sg.text[sp.start:sp.end]
	digits := 0
	for k := 0; k < len(raw); k++ {
		if isDigit(raw[k]) {
			digits++
		}
	}
	if len(raw) < 5 || len(raw) > 20 || digits < 4 || !sg.isBoundary(sp) {
		return span{}, "", false
	}
	if ds, _, ok := firstDate(sg, sp.start, sp.end); ok && ds == sp {
		return span{}, "", false
	}
	return sp, recordValue(raw), true
}

// recordValue is a record number as compared for counting: upper case, letters and
// digits only, so "hx-1234" and "HX1234" count once.
func recordValue(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return -1
	}, s)
}

// keywords adds the tenant's keywords, matched as whole words. The words of a keyword
// may be separated by any white space, a line break included.
func keywords(s *Scanner, sg *segment, add func(hit)) {
	if len(s.words) > 0 {
		for i, t := range sg.toks {
			for _, p := range s.words[sg.lower[t.start:t.end]] {
				last, ok := sg.spaced(i, p.rest)
				sp := span{t.start, sg.toks[last].end}
				if ok && wordEdge(sg.text, sp.start, sp.end) {
					v := strings.Join(strings.Fields(sg.lower[sp.start:sp.end]), " ")
					add(hit{span: sp, kind: kKeyword, lvl: lvlHigh, ctx: true, canon: true, value: v})
				}
			}
		}
	}
	if s.keywords == nil {
		return
	}
	for _, m := range s.keywords.FindAllStringIndex(sg.text, maxMatches) {
		if !wordEdge(sg.text, m[0], m[1]) {
			continue
		}
		v := strings.Join(strings.Fields(strings.ToLower(sg.text[m[0]:m[1]])), " ")
		add(hit{span: span{m[0], m[1]}, kind: kKeyword, lvl: lvlHigh, ctx: true, canon: true, value: v})
	}
}

// wordEdge reports whether text[start:end] is not part of a longer word.
func wordEdge(text string, start, end int) bool {
	word := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	if r, _ := utf8.DecodeLastRuneInString(text[:start]); start > 0 && word(r) {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(text[end:]); end < len(text) && word(r) {
		return false
	}
	return true
}

// expressions adds the matches of the tenant's regular expressions, taken as written.
func expressions(s *Scanner, sg *segment, add func(hit)) {
	for _, re := range s.regexps {
		for _, m := range re.FindAllStringIndex(sg.text, maxMatches) {
			add(hit{span: span{m[0], m[1]}, kind: kRegex, lvl: lvlHigh, ctx: true, canon: true, value: sg.text[m[0]:m[1]]})
		}
	}
}
