package archive

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// zipFile is one entry a test writes and expects to read back.
type zipFile struct {
	name string
	data []byte
	at   time.Time
	size zipSize
}

// TestZipWriterReadBack writes archives with zipWriter and has three independent
// readers check them: Go's archive/zip, Python's zipfile (testzip, names, contents) and
// Info-ZIP's unzip -t. Cases: a few entries of every kind, more than 65,535 entries
// (the ZIP64 end records), and entries past 4 GiB of offset (ZIP64 offsets, written
// after a hole in a sparse file).
func TestZipWriterReadBack(t *testing.T) {
	for _, tool := range []string{"python3", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to check zip files independently: %v", tool, err)
		}
	}
	at := time.Date(2025, 7, 14, 9, 30, 42, 0, time.UTC)
	r := rand.New(rand.NewPCG(7, 7))
	noise := make([]byte, 200<<10)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	few := []zipFile{
		{"messages/000001-arc_a.eml", []byte("Subject: hello\r\n\r\nline\r\n"), at, zipSmall},
		{"messages/000002-arc_empty.eml", nil, at.Add(time.Hour), zipSmall},
		{"archive.mbox", bytes.Repeat([]byte("From MAILER-DAEMON\nbody text\n\n"), 20000), at, zipLarge},
		{"noise.bin", noise, time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC), zipSmall}, // before 1970: no extended timestamp
		{"empty-large", nil, at, zipLarge},
		{"répertoire/ünïcode ✓.eml", []byte("é"), at, zipSmall},
		{"MANIFEST.sha256", []byte("00  x\n"), at, zipSmall},
	}
	many := make([]zipFile, 70000)
	for i := range many {
		many[i] = zipFile{fmt.Sprintf("messages/%06d-arc_%d.eml", i+1, r.Uint64()), fmt.Appendf(nil, "message %d\r\n", i), at, zipSmall}
	}
	many[len(many)/2].data = nil

	for _, c := range []struct {
		name   string
		files  []zipFile
		offset uint64 // bytes of hole before the archive
		end64  bool
		goOnly bool // the limit's two sides, read by Go alone to save time
	}{
		{"few", few, 0, false, false},
		{"65534-entries", many[:65534], 0, false, true},
		{"65535-entries", many[:65535], 0, true, true},
		{"70000-entries", many, 0, true, false},
		{"past-4GiB", few, 5 << 30, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.zip")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(int64(c.offset), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			zw, err := newZipWriter(f)
			if err != nil {
				t.Fatal(err)
			}
			zw.out.n = c.offset // offsets count from the start of the file, hole included
			tmp := zw.dir.Name()
			for _, zf := range c.files {
				w, err := zw.Create(zf.name, zf.at, zf.size)
				if err != nil {
					t.Fatal(err)
				}
				// Written in uneven pieces, as the export's buffered writers do.
				for p := zf.data; len(p) > 0; {
					n := min(len(p), 1+r.IntN(70000))
					if _, err := w.Write(p[:n]); err != nil {
						t.Fatal(err)
					}
					p = p[n:]
				}
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(tmp); !os.IsNotExist(err) {
				t.Errorf("temporary directory file left behind: %v", err)
			}
			size, _ := f.Seek(0, io.SeekEnd)
			if got := hasEnd64(t, f, size); got != c.end64 {
				t.Errorf("ZIP64 end records: %v, want %v", got, c.end64)
			}
			checkZipGo(t, f, size, c.files)
			if c.goOnly {
				return
			}
			checkZipPython(t, path, c.files)
			run(t, filepath.Dir(path), "unzip", "-tq", path)
		})
	}
}

// TestZipWriterRefuses checks the writer's errors: a bad name, a small entry reaching
// 4 GiB, writing to an ended entry, creating after Close.
func TestZipWriterRefuses(t *testing.T) {
	var buf bytes.Buffer
	zw, err := newZipWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.discard()
	for _, name := range []string{"", "bad\xffname", strings.Repeat("a", 1<<16)} {
		if _, err := zw.Create(name, time.Now(), zipSmall); err == nil {
			t.Errorf("name %.20q accepted", name)
		}
	}
	w, err := zw.Create("a", time.Now(), zipSmall)
	if err != nil {
		t.Fatal(err)
	}
	w.(*zipEntry).n = 1<<32 - 10 // as if 4 GiB had been written
	if _, err := w.Write(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "4 GiB") {
		t.Errorf("small entry past 4 GiB: %v", err)
	}
	w.(*zipEntry).n = 0
	if _, err := zw.Create("b", time.Now(), zipSmall); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write to an ended entry accepted")
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Create("c", time.Now(), zipSmall); err == nil {
		t.Error("create after close accepted")
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("archive after refusals: %v", err)
	}
}

// hasEnd64 reports whether the archive ends with a ZIP64 end record and its locator.
func hasEnd64(t *testing.T, f *os.File, size int64) bool {
	t.Helper()
	tail := make([]byte, 22+20)
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(tail) == zipLocator64Sig
}

func checkZipGo(t *testing.T, f *os.File, size int64, files []zipFile) {
	t.Helper()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		t.Fatalf("Go's archive/zip: %v", err)
	}
	if len(zr.File) != len(files) {
		t.Fatalf("Go reads %d entries, want %d", len(zr.File), len(files))
	}
	for i, zf := range zr.File {
		want := files[i]
		if zf.Name != want.name || zf.Method != zip.Deflate || zf.NonUTF8 {
			t.Fatalf("entry %d: %q method %d nonUTF8 %v, want %q", i, zf.Name, zf.Method, zf.NonUTF8, want.name)
		}
		wantAt := want.at
		if wantAt.Year() < 1970 { // no extended timestamp; the earliest an MS-DOS date holds
			wantAt = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if !zf.Modified.Equal(wantAt) {
			t.Errorf("%s: modified %v, want %v", zf.Name, zf.Modified, wantAt)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // archive/zip checks the CRC-32 at EOF
		rc.Close()
		if err != nil || !bytes.Equal(got, want.data) {
			t.Fatalf("%s: Go reads %d bytes (%v), want %d", zf.Name, len(got), err, len(want.data))
		}
	}
}

// zipListing prints, after testzip, [name, sha256, size] for each entry in order.
const zipListing = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    assert bad is None, "bad CRC-32 or header: %s" % bad
    print(json.dumps([[i.filename, hashlib.sha256(z.read(i)).hexdigest(), i.file_size] for i in z.infolist()]))
`

func checkZipPython(t *testing.T, path string, files []zipFile) {
	t.Helper()
	var got [][3]any
	if err := json.Unmarshal([]byte(run(t, filepath.Dir(path), "python3", "-c", zipListing, path)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(files) {
		t.Fatalf("python reads %d entries, want %d", len(got), len(files))
	}
	for i, g := range got {
		sum := sha256.Sum256(files[i].data)
		want := [3]any{files[i].name, hex.EncodeToString(sum[:]), float64(len(files[i].data))}
		if g != want {
			t.Fatalf("python reads entry %d as %v, want %v", i, g, want)
		}
	}
}

func TestZipSizeFor(t *testing.T) {
	for n, want := range map[int64]zipSize{0: zipSmall, 1 << 31: zipSmall, max32 - 1<<20 - 1: zipSmall, max32 - 1<<20: zipLarge, 1 << 40: zipLarge} {
		if got := zipSizeFor(n); got != want {
			t.Errorf("zipSizeFor(%d) = %d, want %d", n, got, want)
		}
	}
}

// BenchmarkZipWriter compares writing 10,000 entries of 2 KiB of text with zipWriter
// and with archive/zip's Writer, into io.Discard: the cost of the temporary file.
func BenchmarkZipWriter(b *testing.B) {
	body := bytes.Repeat([]byte("Dear patient, your results are ready.\r\n"), 52)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			zw, err := newZipWriter(io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			for i := range 10000 {
				w, err := zw.Create(fmt.Sprintf("messages/%06d-arc_x.eml", i), at, zipSmall)
				if err != nil {
					b.Fatal(err)
				}
				w.Write(body)
			}
			if err := zw.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("archive-zip", func(b *testing.B) {
		for b.Loop() {
			zw := zip.NewWriter(io.Discard)
			for i := range 10000 {
				w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("messages/%06d-arc_x.eml", i), Method: zip.Deflate, Modified: at})
				if err != nil {
					b.Fatal(err)
				}
				w.Write(body)
			}
			if err := zw.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
