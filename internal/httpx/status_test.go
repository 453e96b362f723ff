package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatusWriterRecordsFirstStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(http.ResponseWriter)
		want int
	}{
		{"nothing written", func(http.ResponseWriter) {}, 0},
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("x")) }, 200},
		{"explicit", func(w http.ResponseWriter) { w.WriteHeader(404); w.Write([]byte("x")) }, 404},
		{"second header ignored", func(w http.ResponseWriter) { w.WriteHeader(503); w.WriteHeader(200) }, 503},
	} {
		rec := httptest.NewRecorder()
		sw := &StatusWriter{ResponseWriter: rec}
		tc.h(sw)
		if sw.Status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, sw.Status, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	if err := http.NewResponseController(&StatusWriter{ResponseWriter: rec}).Flush(); err != nil {
		t.Errorf("flush through the wrapper: %v", err)
	}
}
