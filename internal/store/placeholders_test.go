package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestAnonymousPlaceholders(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)", "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"},
		{"SELECT json_extract(x, '$.a') FROM t WHERE id = $1", "SELECT json_extract(x, '$.a') FROM t WHERE id = ?"},
		{"SELECT 'it''s $2' FROM t WHERE a = $1 AND b = $2", "SELECT 'it''s $2' FROM t WHERE a = ? AND b = ?"},
		{"SELECT \"$1\" FROM t -- $9\nWHERE a = $1 /* $7 */", "SELECT \"$1\" FROM t -- $9\nWHERE a = ? /* $7 */"},
		{"SELECT $10 FROM t", "SELECT $10 FROM t"},                               // does not start at 1
		{"UPDATE t SET a = $2 WHERE b = $1", "UPDATE t SET a = $2 WHERE b = $1"}, // out of order
		{"SELECT * FROM t WHERE a = $1 OR b = $1", "SELECT * FROM t WHERE a = $1 OR b = $1"},
		{"SELECT $ FROM t", "SELECT $ FROM t"},
		{"SELECT a FROM t /* unterminated $1", "SELECT a FROM t /* unterminated $1"},
	}
	for _, c := range cases {
		if got := anonymousPlaceholders(c.in); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// The prepared path binds the same values whichever form a statement ends up in.
func TestPreparedStatementsBindInOrder(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.sql.ExecContext(ctx, "CREATE TABLE t (a INTEGER, b TEXT, c TEXT)"); err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.exec(ctx, "INSERT INTO t (a, b, c) VALUES ($1, $2, json_extract('{\"a\":\"x$1\"}', '$.a')), ($3, $4, '$2')", 1, "one", 2, "two"); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "UPDATE t SET b = $2 || b WHERE a = $1", 2, "re-")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		a    int
		b, c string
	}{{1, "one", "x$1"}, {2, "re-two", "$2"}} {
		var b, c string
		if err := db.queryRow(ctx, "SELECT b, c FROM t WHERE a = $1 AND $1 > 0", w.a).Scan(&b, &c); err != nil {
			t.Fatal(err)
		}
		if b != w.b || c != w.c {
			t.Errorf("row %d: %q %q, want %q %q", w.a, b, c, w.b, w.c)
		}
	}
}
