package store

import "testing"

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
