package browsertest

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFillClickSubmitsForm(t *testing.T) {
	t.Parallel()
	b := Start(t)
	var mu sync.Mutex
	var got []string
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /form": htmlPage(`<form method="post" action="/submit">
			<input id="name" name="name" value="prefilled">
			<button id="go" type="submit">Send</button></form>
			<button id="noop" type="button" onclick="document.title='clicked'">No-op</button>`),
		"POST /submit": func(w http.ResponseWriter, r *http.Request) {
			v := r.PostFormValue("name")
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
			http.Redirect(w, r, "/done", http.StatusSeeOther)
		},
		"GET /done": htmlPage(`<p id="msg">thanks</p>`),
	})

	b.Navigate(srv.URL + "/form")
	b.Fill("#name", "Ada Lovelace")

	// A click that navigates nowhere must come back promptly, not hang
	// waiting for a load that never happens.
	start := time.Now()
	b.Click("#noop")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Click without navigation took %v", d)
	}
	if loc := b.Location(); !strings.HasSuffix(loc, "/form") {
		t.Errorf("Location after no-op click = %q, want the form page", loc)
	}

	b.Click("#go")
	mu.Lock()
	posted := append([]string(nil), got...)
	mu.Unlock()
	// Fill must replace the prefilled value, not append to it.
	if len(posted) != 1 || posted[0] != "Ada Lovelace" {
		t.Errorf("server got %q, want exactly [\"Ada Lovelace\"]", posted)
	}
	if loc := b.Location(); !strings.HasPrefix(loc, srv.URL+"/done") {
		t.Errorf("Location = %q, want the result page", loc)
	}
	if txt := b.Text("#msg"); txt != "thanks" {
		t.Errorf("Text(#msg) = %q, want %q", txt, "thanks")
	}
	if txt := b.Text("#missing"); txt != "" {
		t.Errorf("Text of a missing element = %q, want empty", txt)
	}
	if h := b.HTML(); !strings.Contains(h, `<p id="msg">thanks</p>`) || !strings.HasPrefix(h, "<html") {
		t.Errorf("HTML() does not hold the result page: %.200s", h)
	}
}

func TestSetFilesUploadsMultipart(t *testing.T) {
	t.Parallel()
	b := Start(t)
	// Binary content with NUL and high bytes, as a scanned referral would.
	want := append([]byte("%PDF-1.7\n\x00\xff\xfe"), bytes.Repeat([]byte{0, 1, 2, 250}, 4096)...)
	file := filepath.Join(t.TempDir(), "referral.pdf")
	if err := os.WriteFile(file, want, 0o600); err != nil {
		t.Fatal(err)
	}

	type upload struct {
		name string
		data []byte
	}
	received := make(chan upload, 1)
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /up": htmlPage(`<form method="post" action="/up" enctype="multipart/form-data">
			<input id="doc" type="file" name="doc"><button id="send">Upload</button></form>`),
		"POST /up": func(w http.ResponseWriter, r *http.Request) {
			f, hdr, err := r.FormFile("doc")
			if err != nil {
				http.Error(w, "no file", http.StatusBadRequest)
				return
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil {
				http.Error(w, "read", http.StatusBadRequest)
				return
			}
			received <- upload{hdr.Filename, data}
			htmlPage(`<p id="ok">stored `+html.EscapeString(hdr.Filename)+`</p>`)(w, r)
		},
	})

	b.Navigate(srv.URL + "/up")
	b.SetFiles("#doc", file)
	b.Click("#send")

	select {
	case u := <-received:
		if u.name != "referral.pdf" {
			t.Errorf("uploaded filename = %q, want referral.pdf", u.name)
		}
		if !bytes.Equal(u.data, want) {
			t.Errorf("uploaded %d bytes differing from the %d sent", len(u.data), len(want))
		}
	default:
		t.Fatal("server received no upload by the time Click returned")
	}
	if txt := b.Text("#ok"); txt != "stored referral.pdf" {
		t.Errorf("result page text = %q", txt)
	}
}
