package api

import (
	"context"
	"net/http"
	"strconv"
)

// cursorPage ends the answer of a list read a page at a time. Embedded after the
// list's items it writes next_cursor (only when another page follows: pass it back
// for that page) and has_more.
type cursorPage struct {
	NextCursor string `json:"next_cursor,omitempty"`
	HasMore    bool   `json:"has_more"`
}

// page cuts rows, read with one row more than a page holds, to at most limit (1 or
// more): the extra row tells that another page follows, which starts after the last
// row kept, named by cursor. Rows that fit are returned as they came.
func page[T any](rows []T, limit int, cursor func(T) string) ([]T, cursorPage) {
	if len(rows) <= limit {
		return rows, cursorPage{}
	}
	rows = rows[:limit]
	return rows, cursorPage{NextCursor: cursor(rows[limit-1]), HasMore: true}
}

// pageLimit is a request's limit parameter: 1 to 500, 100 when it names none.
func pageLimit(r *http.Request) (int, error) {
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return 0, badField("limit", "must be 1-500")
		}
		return n, nil
	}
	return 100, nil
}

// readPage reads the page a request asks for with its limit (pageLimit) and cursor
// parameters: list returns the tenant's rows after the cursor, at most limit of them.
func readPage[T any](r *http.Request, tenantID string, list func(ctx context.Context, tenantID, after string, limit int) ([]T, error), cursor func(T) string) ([]T, cursorPage, error) {
	limit, err := pageLimit(r)
	if err != nil {
		return nil, cursorPage{}, err
	}
	rows, err := list(r.Context(), tenantID, r.URL.Query().Get("cursor"), limit+1)
	if err != nil {
		return nil, cursorPage{}, err
	}
	rows, pg := page(rows, limit, cursor)
	return rows, pg, nil
}
