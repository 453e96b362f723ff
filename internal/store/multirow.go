package store

import (
	"strconv"
	"strings"
)

// insertRows is head ("INSERT INTO t (a, b)") with a VALUES list of rows rows of cols
// placeholders each, numbered in order, then tail ("ON CONFLICT DO NOTHING", say):
// one statement for many rows, where one a row would cost a round trip (PostgreSQL)
// or a pass through the engine (SQLite) each.
func insertRows(head string, cols, rows int, tail string) string {
	var b strings.Builder
	b.Grow(len(head) + len(tail) + rows*cols*5 + 16)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		}
		b.WriteByte(')')
	}
	if tail != "" {
		b.WriteByte(' ')
		b.WriteString(tail)
	}
	return b.String()
}
