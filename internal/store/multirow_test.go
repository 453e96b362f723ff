package store

import (
	"reflect"
	"testing"
)

func TestInsertRows(t *testing.T) {
	cases := []struct {
		cols, rows int
		tail, want string
	}{
		{1, 1, "", "INSERT INTO t (a) VALUES ($1)"},
		{2, 3, "ON CONFLICT DO NOTHING", "INSERT INTO t (a) VALUES ($1, $2), ($3, $4), ($5, $6) ON CONFLICT DO NOTHING"},
		{3, 1, "RETURNING id", "INSERT INTO t (a) VALUES ($1, $2, $3) RETURNING id"},
	}
	for _, c := range cases {
		if got := insertRows("INSERT INTO t (a)", c.cols, c.rows, c.tail); got != c.want {
			t.Errorf("%d×%d: %q, want %q", c.rows, c.cols, got, c.want)
		}
	}
}

func TestPadToPowerOfTwo(t *testing.T) {
	for _, tc := range []struct {
		in   []any
		want []any
	}{
		{[]any{"a"}, []any{"a"}},
		{[]any{"a", "b"}, []any{"a", "b"}},
		{[]any{"a", "b", "c"}, []any{"a", "b", "c", "c"}},
		{[]any{1, 2, 3, 4, 5}, []any{1, 2, 3, 4, 5, 5, 5, 5}},
	} {
		if got := padToPowerOfTwo(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("padToPowerOfTwo(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := placeholderList(3, 3); got != "$3, $4, $5" {
		t.Errorf("placeholderList(3, 3) = %q", got)
	}
}
