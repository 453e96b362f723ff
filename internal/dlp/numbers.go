package dlp

import "strings"

// Numbers: SSN, NPI, ABA routing and payment card numbers are found as runs of digit
// groups, the way people and mailers write them: "123-45-6789", "123 45 6789",
// "4111 1111\n1111 1111" wrapped at a line end, "12345-6789". Every window of
// consecutive groups whose digit count fits an identifier is a candidate; the grouping
// decides whether it is in canonical form.

// sepKind is what joins two digit groups.
type sepKind uint8

const (
	sepSpace sepKind = iota // one or two spaces
	sepDash                 // a dash, maybe with spaces or a line break around it
	sepWrap                 // a line break: the writer's line, not the number's grouping
)

// joiner reports whether the text between two digit groups can be inside one number.
// A tab is not a joiner: it separates table cells.
func joiner(s string) (sepKind, bool) {
	if len(s) == 0 || len(s) > 8 {
		return 0, false
	}
	dash, nl, spaces := false, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			spaces++
		case '\r':
		case '\n':
			nl = true
		case '-':
			if dash {
				return 0, false
			}
			dash = true
		case '>': // quoting of a reply, after the line break
			if !nl {
				return 0, false
			}
		default:
			return 0, false
		}
	}
	switch {
	case dash:
		return sepDash, true
	case nl:
		return sepWrap, true
	case spaces > 2:
		return 0, false
	}
	return sepSpace, true
}

const maxGroups = 9

// numbers adds the numeric candidates of a segment to c.
func numbers(sg *segment, c *candidates) {
	toks := sg.toks
	eligible := func(i int) bool {
		t := toks[i]
		return t.digits && t.end-t.start <= 19 && sg.isBoundary(t.span)
	}
	var seps []sepKind
	for i := 0; i < len(toks); i++ {
		if !eligible(i) {
			continue
		}
		// The run is toks[i..j]; seps[k] joins toks[i+k] and toks[i+k+1].
		seps = seps[:0]
		j := i
		for j+1 < len(toks) && eligible(j+1) {
			k, ok := joiner(sg.text[toks[j].end:toks[j+1].start])
			if !ok {
				break
			}
			seps = append(seps, k)
			j++
		}
		for a := i; a <= j; a++ {
			total := 0
			// At most maxGroups groups: "1 2 3 4 5 6 7 8 9" copied from a boxed form is
			// a number; a longer list of small numbers is a table.
			for b := a; b <= j && b-a < maxGroups; b++ {
				total += toks[b].end - toks[b].start
				if total > 19 {
					break
				}
				if total == 9 || total == 10 || total >= 13 {
					window(sg, c, a, b, total, seps[a-i:b-i])
				}
			}
		}
		i = j
	}
}

// window checks the digit groups toks[a..b], joined by seps, against every identifier
// of that length.
func window(sg *segment, c *candidates, a, b, n int, seps []sepKind) {
	var buf [19]byte
	lens := make([]int, 0, maxGroups)
	d := buf[:0]
	for _, t := range sg.toks[a : b+1] {
		d = append(d, sg.text[t.start:t.end]...)
		lens = append(lens, t.end-t.start)
	}
	if !plausible(d) {
		return // cheap test before allocating the string
	}
	digits := string(d)
	s := span{sg.toks[a].start, sg.toks[b].end}
	switch n {
	case 9:
		if validSSN(digits) {
			// The canonical AAA-GG-SSSS; any other grouping needs context.
			canon := len(lens) == 3 && lens[0] == 3 && lens[1] == 2 && seps[0] == sepDash && seps[1] == sepDash
			c.add(kSSN, s, canon, digits)
		}
		if validABA(digits) {
			c.add(kABA, s, oneBlock(seps), digits)
		}
	case 10:
		if validNPI(digits) {
			c.add(kNPI, s, oneBlock(seps), digits)
		}
	default:
		if validCard(digits) {
			c.add(kCard, s, oneBlock(seps) || cardGrouping(lens, seps), digits)
		}
	}
}

// plausible rules out most digit strings by their first digits alone: an NPI starts
// with 1 or 2, a card with 2 to 6, and nine digits must be a possible SSN area or a
// routing symbol.
func plausible(d []byte) bool {
	switch len(d) {
	case 9:
		return d[0] != '9' || d[1] != '9' // 99 is neither an SSN area nor a routing symbol
	case 10:
		return d[0] == '1' || d[0] == '2'
	}
	return d[0] >= '2' && d[0] <= '6'
}

// oneBlock reports whether the groups are one block of digits, at most wrapped.
func oneBlock(seps []sepKind) bool {
	for _, k := range seps {
		if k != sepWrap {
			return false
		}
	}
	return true
}

// cardGrouping reports whether groups look as printed on a card: fours (the last may
// be shorter), 4-6-5 (American Express) or 4-6-4 (Diners Club), all joined the same way.
// A line break may stand for any joiner, or be a wrap inside a group.
func cardGrouping(lens []int, seps []sepKind) bool {
	var joint sepKind = sepWrap
	for _, k := range seps {
		if k == sepWrap {
			continue
		}
		if joint != sepWrap && k != joint {
			return false
		}
		joint = k
	}
	if printed(lens) {
		return true
	}
	merged := []int{lens[0]}
	for i, k := range seps {
		if k == sepWrap {
			merged[len(merged)-1] += lens[i+1]
		} else {
			merged = append(merged, lens[i+1])
		}
	}
	return printed(merged)
}

func printed(lens []int) bool {
	switch {
	case len(lens) == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4):
		return true
	case len(lens) < 3:
		return false
	}
	for i, l := range lens {
		if l != 4 && (i < len(lens)-1 || l < 1 || l > 4) {
			return false
		}
	}
	return true
}

// ids adds Medicare Beneficiary Identifiers and DEA registration numbers: letter-digit
// tokens whose structure is checked position by position. Written in lower case they are
// not canonical, so they need a context term.
func ids(sg *segment, c *candidates) {
	toks := sg.toks
	for i, t := range toks {
		if t.digits {
			continue
		}
		raw := sg.text[t.start:t.end]
		switch len(raw) {
		case 11:
			if !isDigit(raw[0]) || !isDigit(raw[3]) || !isDigit(raw[10]) {
				continue // cheap test before allocating
			}
			if v := strings.ToUpper(raw); validMBI(v) && sg.isBoundary(t.span) {
				c.add(kMBI, t.span, v == raw, v)
			}
		case 9:
			if !isDigit(raw[2]) || !isDigit(raw[8]) {
				continue
			}
			if v := strings.ToUpper(raw); validDEA(v) && sg.isBoundary(t.span) {
				c.add(kDEA, t.span, v == raw, v)
			}
		case 4:
			// An MBI is printed as 4-3-4 ("1EG4-TE5-MK73") on the Medicare card.
			if i+2 >= len(toks) || !isDigit(raw[0]) || !isDigit(raw[3]) {
				continue
			}
			m, e := toks[i+1], toks[i+2]
			if m.end-m.start != 3 || e.end-e.start != 4 || !mbiJoint(sg.text[t.end:m.start]) || !mbiJoint(sg.text[m.end:e.start]) {
				continue
			}
			s := span{t.start, e.end}
			raw := raw + sg.text[m.start:m.end] + sg.text[e.start:e.end]
			if v := strings.ToUpper(raw); validMBI(v) && sg.isBoundary(s) {
				c.add(kMBI, s, v == raw, v)
			}
		}
	}
}

// mbiJoint reports whether the text between MBI groups is a dash or a space, maybe
// with a line break.
func mbiJoint(s string) bool {
	k, ok := joiner(s)
	return ok && len(s) <= 3 && (k == sepDash || k == sepWrap || s == " ")
}
