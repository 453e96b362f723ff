package browsertest

import (
	"bytes"
	"net/http"
	"testing"
)

func TestDownloadReturnsExactBytesAndName(t *testing.T) {
	t.Parallel()
	b := Start(t)
	body := append([]byte("BEGIN:VCARD\r\n\x00\x01\xfe\xff"), bytes.Repeat([]byte("0123456789"), 10000)...)
	attach := func(disposition string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", disposition)
			w.Write(body)
		}
	}
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /": htmlPage(`<a id="plain" href="/plain">report</a>
			<a id="utf8" href="/utf8">résumé</a>
			<button id="btn" onclick="location.href='/plain'">button</button>`),
		"GET /plain": attach(`attachment; filename="report 2024.bin"`),
		"GET /utf8":  attach(`attachment; filename="fallback.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`),
	})
	b.Navigate(srv.URL + "/")

	cases := []struct {
		name, sel, file string
	}{
		{"link", "#plain", "report 2024.bin"},
		{"rfc5987 name", "#utf8", "résumé.txt"},
		// Same file again: saving by download id must not collide.
		{"button repeat", "#btn", "report 2024.bin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, name := b.Download(c.sel)
			if name != c.file {
				t.Errorf("filename = %q, want %q", name, c.file)
			}
			if !bytes.Equal(data, body) {
				t.Errorf("got %d bytes, want the %d served", len(data), len(body))
			}
		})
	}
}
