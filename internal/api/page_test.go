package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
)

type pageRow struct {
	ID string `json:"id"`
}

func rowsOf(n int) []*pageRow {
	rows := []*pageRow{}
	for i := range n {
		rows = append(rows, &pageRow{ID: "r" + strconv.Itoa(i+1)})
	}
	return rows
}

func rowID(r *pageRow) string { return r.ID }

// pageJSON is a page as a list handler writes it.
func pageJSON(t *testing.T, rows []*pageRow, pg cursorPage) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Rows []*pageRow `json:"rows"`
		cursorPage
	}{rows, pg})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPageCutsAtTheLimit: rows read with one more than the page holds become a page of
// at most limit; the extra row alone says that more follow, and the cursor names the
// last row kept. The answer's bytes are those the list handlers wrote before.
func TestPageCutsAtTheLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		rows  []*pageRow
		limit int
		want  string
	}{
		{"nothing read", nil, 2, `{"rows":null,"has_more":false}`},
		{"empty", rowsOf(0), 2, `{"rows":[],"has_more":false}`},
		{"fewer than the limit", rowsOf(1), 2, `{"rows":[{"id":"r1"}],"has_more":false}`},
		{"exactly the limit", rowsOf(2), 2, `{"rows":[{"id":"r1"},{"id":"r2"}],"has_more":false}`},
		{"one more than the limit", rowsOf(3), 2, `{"rows":[{"id":"r1"},{"id":"r2"}],"next_cursor":"r2","has_more":true}`},
		{"limit of one", rowsOf(2), 1, `{"rows":[{"id":"r1"}],"next_cursor":"r1","has_more":true}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, pg := page(c.rows, c.limit, rowID)
			if len(got) > c.limit {
				t.Fatalf("%d rows for a limit of %d", len(got), c.limit)
			}
			if s := pageJSON(t, got, pg); s != c.want {
				t.Fatalf("got  %s\nwant %s", s, c.want)
			}
		})
	}
}

// TestReadPageAsksForOneMore: the limit parameter (default 100, 1 to 500) and the
// cursor reach the list as limit+1 and after; walking the pages yields every row once.
func TestReadPageAsksForOneMore(t *testing.T) {
	all := rowsOf(5)
	var asked []int
	list := func(_ context.Context, tenantID, after string, limit int) ([]*pageRow, error) {
		if tenantID != "tn_1" {
			t.Fatalf("tenant %q", tenantID)
		}
		asked = append(asked, limit)
		i := 0
		if after != "" {
			i = slices.IndexFunc(all, func(r *pageRow) bool { return r.ID == after }) + 1
		}
		return all[i:min(len(all), i+limit)], nil
	}
	var seen []string
	cursor := ""
	for range 10 {
		rows, pg, err := readPage(httptest.NewRequest("GET", "/v1/rows?limit=2&cursor="+cursor, nil), "tn_1", list, rowID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			seen = append(seen, r.ID)
		}
		if !pg.HasMore {
			break
		}
		cursor = pg.NextCursor
	}
	if want := []string{"r1", "r2", "r3", "r4", "r5"}; !slices.Equal(seen, want) {
		t.Fatalf("walked %v, want %v", seen, want)
	}
	if !slices.Equal(asked, []int{3, 3, 3}) {
		t.Fatalf("asked for %v rows", asked)
	}

	asked = nil
	if rows, pg, err := readPage(httptest.NewRequest("GET", "/v1/rows", nil), "tn_1", list, rowID); err != nil || len(rows) != 5 || pg.HasMore || !slices.Equal(asked, []int{101}) {
		t.Fatalf("default limit: %d rows, %+v, asked %v, %v", len(rows), pg, asked, err)
	}
	for _, bad := range []string{"0", "501", "x", "-1"} {
		asked = nil
		_, _, err := readPage(httptest.NewRequest("GET", "/v1/rows?limit="+bad, nil), "tn_1", list, rowID)
		if p, ok := err.(*Problem); !ok || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "limit" || asked != nil {
			t.Fatalf("limit=%s: %v, asked %v", bad, err, asked)
		}
	}
}
