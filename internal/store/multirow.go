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
	return insertRowsFrom(head, cols, rows, tail, 1)
}

// insertRowsFrom is insertRows with placeholders numbered from first.
func insertRowsFrom(head string, cols, rows int, tail string, first int) string {
	var b strings.Builder
	b.Grow(len(head) + len(tail) + rows*cols*5 + 16)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	n := first - 1
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

// withInserts puts INSERT statements in a WITH clause ahead of a last statement, so
// PostgreSQL runs them all in one round trip and one pass through its executor (SQLite
// has no data-modifying WITH). Placeholders number on across the parts.
type withInserts struct {
	b    strings.Builder
	args []any
	n    int
}

// add appends head with rows rows of len(args)/rows values each, then tail.
func (w *withInserts) add(head string, rows int, tail string, args ...any) {
	if rows == 0 {
		return
	}
	w.addQuery(func(first int) string { return insertRowsFrom(head, len(args)/rows, rows, tail, first) }, args...)
}

// parts is the WITH clause so far and its arguments ("" and none for a nil w): a last
// statement follows it, numbering its placeholders from len(args)+1.
func (w *withInserts) parts() (string, []any) {
	if w == nil {
		return "", nil
	}
	return w.b.String(), w.args
}

// addQuery appends a statement built with its placeholders numbered from first.
func (w *withInserts) addQuery(build func(first int) string, args ...any) {
	if w.n == 0 {
		w.b.WriteString("WITH ")
	} else {
		w.b.WriteString(", ")
	}
	w.b.WriteString("w")
	w.b.WriteString(strconv.Itoa(w.n))
	w.b.WriteString(" AS (")
	w.b.WriteString(build(len(w.args) + 1))
	w.b.WriteString(") ")
	w.n++
	w.args = append(w.args, args...)
}

// padToPowerOfTwo repeats vals' last value until there are a power of two of them:
// an IN list ignores repeats, and a handful of statement shapes (each prepared once on
// SQLite) then serve every length. vals must not be empty.
func padToPowerOfTwo(vals []any) []any {
	n := 1
	for n < len(vals) {
		n *= 2
	}
	out := make([]any, n)
	for i := range n {
		out[i] = vals[min(i, len(vals)-1)]
	}
	return out
}

// placeholderList is "$first, $first+1, …": n numbered placeholders for an IN list.
func placeholderList(first, n int) string {
	ph := make([]string, n)
	for i := range n {
		ph[i] = "$" + strconv.Itoa(first+i)
	}
	return strings.Join(ph, ", ")
}
