package browsertest

import (
	"bytes"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestScreenshotWritesPNGAtWidth(t *testing.T) {
	t.Parallel()
	b := Start(t)
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /": htmlPage(`<div style="height:2000px;background:linear-gradient(#fff,#036)">tall</div>`),
	})
	b.Navigate(srv.URL + "/")
	dir := t.TempDir()

	cases := []struct {
		name  string
		width int
		shoot func(path string)
	}{
		{"default", 1024, b.Screenshot},
		{"phone", 390, func(p string) { b.ScreenshotAt(p, 390) }},
		{"tablet", 800, func(p string) { b.ScreenshotAt(p, 800) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A nested path checks that missing directories are created.
			path := filepath.Join(dir, c.name, "shots", "page.png")
			c.shoot(path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatalf("file does not start with the PNG signature: % x", data[:min(8, len(data))])
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			sz := img.Bounds().Size()
			if sz.X != c.width {
				t.Errorf("width = %d, want %d", sz.X, c.width)
			}
			// Full page, not just the viewport.
			if sz.Y < 2000 {
				t.Errorf("height = %d, want the whole 2000px page", sz.Y)
			}
		})
	}

	// The emulated width must not stick after a capture.
	var w int
	b.Run(evalInto(`window.innerWidth`, &w))
	if w != 1024 {
		t.Errorf("viewport width after screenshots = %d, want 1024", w)
	}
}
