package dlp

import (
	"fmt"
	"strings"
)

// A date is a date of birth only when a birth term names it: each term claims the first
// real date after it in the same clause (within 48 bytes, at most one line break) or,
// failing that, a date just before it, as in "03/04/1975 (DOB)". Other dates — visits,
// invoices — are ignored.

// birthDates adds the dates of birth of a segment as hits.
func birthDates(sg *segment, add func(hit)) {
	var claimed span
	for _, o := range sg.ctx[kDOB] {
		s, v, ok := firstDate(sg, o.end, sg.reach(o.end, ctxBefore, false))
		if !ok {
			s, v, ok = lastDate(sg, max(o.start-24, 0), o.start)
		}
		if ok && s != claimed {
			claimed = s
			add(hit{span: s, kind: kDOB, lvl: lvlHigh, ctx: true, canon: true, value: v})
		}
	}
}

// firstDate returns the first real date starting in text[from:to].
func firstDate(sg *segment, from, to int) (span, string, bool) {
	for i := sg.tokenAt(from); i < len(sg.toks) && sg.toks[i].start < to; i++ {
		if s, v, ok := dateAt(sg, i); ok {
			return s, v, true
		}
	}
	return span{}, "", false
}

// lastDate returns a real date that ends right before to, starting at or after from.
func lastDate(sg *segment, from, to int) (span, string, bool) {
	for i := sg.tokenAt(to) - 1; i >= 0 && sg.toks[i].start >= from; i-- {
		if s, v, ok := dateAt(sg, i); ok && sg.adjacentBefore(s.end, to) {
			return s, v, true
		}
	}
	return span{}, "", false
}

// dateAt reads a date starting at token i, in any of the forms people write:
// 03/04/1975, 3-4-75, 04.03.1975 (numeric, month or day first), 1975-03-04, 19750304,
// March 3, 1975, Sept. 3rd 1975, 3 March 1975 and 03-MAR-1975. It returns the date as
// YYYY-MM-DD if it is a real one.
func dateAt(sg *segment, i int) (span, string, bool) {
	if i+2 >= len(sg.toks) {
		if i < len(sg.toks) && sg.toks[i].end-sg.toks[i].start == 8 {
			return compactDate(sg, i)
		}
		return span{}, "", false
	}
	a, b, c := sg.toks[i], sg.toks[i+1], sg.toks[i+2]
	ta, tb, tc := sg.lower[a.start:a.end], sg.lower[b.start:b.end], sg.lower[c.start:c.end]
	g1, g2 := sg.text[a.end:b.start], sg.text[b.end:c.start]
	s := span{a.start, c.end}
	y, m, d := 0, 0, 0
	switch {
	case a.digits && b.digits && c.digits && numericGap(g1) && numericGap(g2):
		switch {
		case len(ta) == 4 && len(tb) <= 2 && len(tc) <= 2:
			y, m, d = atoi(ta), atoi(tb), atoi(tc)
		case len(ta) <= 2 && len(tb) <= 2 && (len(tc) == 2 || len(tc) == 4):
			y, m, d = year(tc), atoi(ta), atoi(tb)
			// US month/day first, else the day/month order used nearly everywhere else.
			if !realDate(y, m, d) {
				m, d = d, m
			}
		}
	case month(ta) > 0 && c.digits && wordGap(g1, false) && wordGap(g2, true):
		if n, ok := dayOf(tb); ok && len(tc) == 4 {
			y, m, d = atoi(tc), month(ta), n
		}
	case month(tb) > 0 && c.digits && wordGap(g1, true) && wordGap(g2, true):
		if n, ok := dayOf(ta); ok && (len(tc) == 2 || len(tc) == 4) {
			y, m, d = year(tc), month(tb), n
		}
	}
	if y == 0 {
		if a.end-a.start == 8 {
			return compactDate(sg, i)
		}
		return span{}, "", false
	}
	if !realDate(y, m, d) || !sg.isBoundary(s) {
		return span{}, "", false
	}
	return s, isoDate(y, m, d), true
}

// compactDate reads 19750304.
func compactDate(sg *segment, i int) (span, string, bool) {
	t := sg.toks[i]
	v := sg.text[t.start:t.end]
	if !t.digits || len(v) != 8 || (v[:2] != "19" && v[:2] != "20") {
		return span{}, "", false
	}
	y, m, d := atoi(v[:4]), atoi(v[4:6]), atoi(v[6:])
	if !realDate(y, m, d) || !sg.isBoundary(t.span) {
		return span{}, "", false
	}
	return t.span, isoDate(y, m, d), true
}

// numericGap reports whether s separates the parts of a numeric date: one of / . -,
// maybe with a space around it.
func numericGap(s string) bool {
	if len(s) > 3 {
		return false
	}
	s = strings.TrimSpace(s)
	return len(s) == 1 && (s[0] == '/' || s[0] == '.' || s[0] == '-')
}

// wordGap reports whether s separates the parts of a date with a month name: spaces,
// a dash, a full stop after an abbreviation, a comma before the year.
func wordGap(s string, dash bool) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\n', '.', ',':
		case '-':
			if !dash {
				return false
			}
		default:
			return false
		}
	}
	return strings.ContainsAny(s, " \n-")
}

// dayOf reads a day of the month with an optional ordinal suffix: 3, 03, 3rd, 21st.
func dayOf(t string) (int, bool) {
	n := 0
	for n < len(t) && isDigit(t[n]) {
		n++
	}
	if n == 0 || n > 2 {
		return 0, false
	}
	switch t[n:] {
	case "", "st", "nd", "rd", "th":
		return atoi(t[:n]), true
	}
	return 0, false
}

// year reads a four- or two-digit year; "75" is 1975 and "03" is 2003.
func year(s string) int {
	y := atoi(s)
	if len(s) == 2 {
		if y < 30 {
			return 2000 + y
		}
		return 1900 + y
	}
	return y
}

// month reads a lower-case month name, full or abbreviated to three letters (or
// "sept"); it returns 0 for any other word.
func month(s string) int {
	if len(s) < 3 || len(s) > 9 {
		return 0
	}
	full := [...]string{"january", "february", "march", "april", "may", "june", "july", "august",
		"september", "october", "november", "december"}
	m := 0
	switch s[:3] {
	case "jan":
		m = 1
	case "feb":
		m = 2
	case "mar":
		m = 3
	case "apr":
		m = 4
	case "may":
		m = 5
	case "jun":
		m = 6
	case "jul":
		m = 7
	case "aug":
		m = 8
	case "sep":
		m = 9
	case "oct":
		m = 10
	case "nov":
		m = 11
	case "dec":
		m = 12
	default:
		return 0
	}
	if len(s) == 3 || s == full[m-1] || s == "sept" {
		return m
	}
	return 0
}

// realDate reports whether the date exists and could be a living person's birth date.
// The scanner has no clock, so the upper bound is the end of the century.
func realDate(y, m, d int) bool {
	if y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

func isoDate(y, m, d int) string { return fmt.Sprintf("%04d-%02d-%02d", y, m, d) }
