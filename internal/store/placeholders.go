package store

import "strings"

// anonymousPlaceholders rewrites a statement whose placeholders are $1, $2, … $n, each
// once and in that order, to SQLite's anonymous "?" form, and returns any other
// statement unchanged. Both forms bind the same arguments in the same order; the
// difference is cost: SQLite keeps numbered parameters in a list it searches from the
// start for every parameter bound, so a many-row INSERT with hundreds of them spent
// more time naming its parameters than storing its rows. Quoted strings, quoted
// identifiers and comments are copied as they are (a JSON path such as '$.a' is text).
func anonymousPlaceholders(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	next := 1
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := skipQuoted(q, i)
			b.WriteString(q[i:j])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return q
			}
			b.WriteString(q[i : i+2+j+2])
			i += 2 + j + 2
		case c == '$':
			j := i + 1
			n := 0
			for j < len(q) && q[j] >= '0' && q[j] <= '9' && n < 1e6 {
				n = n*10 + int(q[j]-'0')
				j++
			}
			if j == i+1 || n != next {
				return q // not a numbered placeholder, or not in order: leave it alone
			}
			next++
			b.WriteByte('?')
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// skipQuoted returns the index just past the quoted run starting at q[i]; a doubled
// quote inside is part of the run.
func skipQuoted(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		if q[j] != quote {
			continue
		}
		if j+1 < len(q) && q[j+1] == quote {
			j++
			continue
		}
		return j + 1
	}
	return len(q)
}
