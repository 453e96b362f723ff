//go:build soak

package archive

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestZipWriterLargeEntry writes one entry of more than 4 GiB (zeros, so the file stays
// small): its sizes only fit the ZIP64 data descriptor and extra field. It compresses
// 4 GiB (about two minutes here), so it runs with the soak tests:
// go test -tags soak -run TestZipWriterLargeEntry ./internal/archive/
func TestZipWriterLargeEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 4 GiB")
	}
	const n = 4<<30 + 12345
	path := filepath.Join(t.TempDir(), "large.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := newZipWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := zw.Create("archive.mbox", time.Now(), zipLarge)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	zero := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(zero) {
		p := zero[:min(left, len(zero))]
		h.Write(p)
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	want := hex.EncodeToString(h.Sum(nil))
	if _, err := zw.Create("after", time.Now(), zipSmall); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekEnd)
	zr, err := zip.NewReader(f, size)
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 2 || zr.File[0].UncompressedSize64 != n {
		t.Fatalf("Go reads %d entries, first of %d bytes", len(zr.File), zr.File[0].UncompressedSize64)
	}
	rc, _ := zr.File[0].Open()
	h.Reset()
	if _, err := io.Copy(h, rc); err != nil {
		t.Fatalf("Go reading the large entry: %v", err)
	}
	rc.Close()
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("Go reads back another content")
	}
	out := run(t, filepath.Dir(path), "python3", "-c", `
import hashlib, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    h = hashlib.sha256()
    with z.open("archive.mbox") as f:  # checks the CRC-32 at the end
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    print(z.getinfo("archive.mbox").file_size, h.hexdigest())
`, path)
	if got := strings.TrimSpace(out); got != fmt.Sprintf("%d %s", n, want) {
		t.Fatalf("python reads %s", got)
	}
	run(t, filepath.Dir(path), "unzip", "-tq", path)
}
