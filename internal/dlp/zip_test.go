package dlp

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// bounded runs a scan and fails if it takes long or allocates much: a bomb must be
// refused, not expanded. Tests using it are not parallel, so the counters are theirs.
func bounded(t *testing.T, s *Scanner, in Input, maxBytes uint64) Report {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := s.ScanReport(in)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("scan took %v, allocated %d KiB", elapsed, alloc>>10)
	if elapsed > 2*time.Second {
		t.Errorf("scan took %v", elapsed)
	}
	if alloc > maxBytes {
		t.Errorf("scan allocated %d bytes, want at most %d", alloc, maxBytes)
	}
	return r
}

func zipAttachment(data []byte) Input {
	return Input{Attachments: []Attachment{{"files.zip", "application/zip", data}}}
}

// An entry whose header honestly declares a huge size is refused before reading.
func TestZipRatioBomb(t *testing.T) {
	zeros := bytes.Repeat([]byte{'0'}, 32<<20)
	bomb := zipFile(map[string][]byte{"a.txt": []byte("SSN 123-45-6789"), "zeros.txt": zeros})
	t.Logf("bomb: %d bytes compressed, %d uncompressed", len(bomb), len(zeros))
	s := mustCompile(t, Rules{}, Limits{})
	r := bounded(t, s, zipAttachment(bomb), 8<<20)
	if !r.Incomplete || !slices.Equal(categories(r), []Category{SSN}) {
		t.Errorf("report %+v: want the small entry scanned and the bomb refused", r)
	}
}

// An entry whose header lies about its size is cut off at its allowance.
func TestZipLyingHeader(t *testing.T) {
	var deflated bytes.Buffer
	w, _ := flate.NewWriter(&deflated, flate.BestCompression)
	content := append([]byte("SSN 123-45-6789\n"), bytes.Repeat([]byte(" "), 16<<20)...)
	_, _ = w.Write(content)
	_ = w.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	fw, err := zw.CreateRaw(&zip.FileHeader{
		Name: "small.txt", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 100, // the lie
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(deflated.Bytes())
	_ = zw.Close()
	s := mustCompile(t, Rules{}, Limits{MaxZipRatio: 20})
	r := bounded(t, s, zipAttachment(b.Bytes()), 8<<20)
	if !r.Incomplete || len(r.Findings) != 0 {
		t.Errorf("report %+v: want the entry refused and the report incomplete", r)
	}
}

// Nesting is opened to MaxZipDepth and no deeper.
func TestZipDepth(t *testing.T) {
	t.Parallel()
	data := []byte("SSN 123-45-6789")
	name := "ssn.txt"
	for i := range 10 {
		data = zipFile(map[string][]byte{name: data})
		name = strings.Repeat("n", i+1) + ".zip"
	}
	deep := mustCompile(t, Rules{}, Limits{MaxZipDepth: 10})
	if r := deep.ScanReport(zipAttachment(data)); r.Incomplete || !slices.Equal(categories(r), []Category{SSN}) {
		t.Errorf("depth 10 allowed: %+v", r)
	}
	shallow := mustCompile(t, Rules{}, Limits{MaxZipDepth: 3})
	if r := shallow.ScanReport(zipAttachment(data)); !r.Incomplete || len(r.Findings) != 0 {
		t.Errorf("depth 3 allowed: %+v", r)
	}
}

// An archive with more entries than allowed is refused before its directory is read.
func TestZipEntries(t *testing.T) {
	files := map[string][]byte{}
	for i := range 20000 {
		files[strings.Repeat("d", 1+i%7)+string(rune('a'+i%26))+strings.Repeat("x", i/182)+".txt"] = nil
	}
	many := zipFile(files)
	s := mustCompile(t, Rules{}, Limits{MaxZipEntries: 1000})
	if r := bounded(t, s, zipAttachment(many), 1<<20); !r.Incomplete {
		t.Errorf("%d entries accepted", len(files))
	}
	few := zipFile(map[string][]byte{"a.txt": []byte("SSN 123-45-6789"), "b.txt": nil})
	if r := s.ScanReport(zipAttachment(few)); r.Incomplete || len(r.Findings) != 1 {
		t.Errorf("small archive: %+v", r)
	}
}

// A fan-out bomb (each level holds many copies of the level below, like 42.zip) stops
// at the entry and total limits.
func TestZipFanOut(t *testing.T) {
	leaf := bytes.Repeat([]byte("0123456789 "), 5000)
	level := zipFile(map[string][]byte{"leaf.txt": leaf})
	for range 4 {
		files := map[string][]byte{}
		for i := range 16 {
			files[string(rune('a'+i))+".zip"] = level
		}
		level = zipFile(files)
	}
	t.Logf("fan-out bomb: %d bytes, %d leaves of %d bytes", len(level), 16*16*16*16, len(leaf))
	s := mustCompile(t, Rules{}, Limits{MaxZipDepth: 5, MaxZipTotal: 4 << 20})
	if r := bounded(t, s, zipAttachment(level), 48<<20); !r.Incomplete {
		t.Errorf("fan-out bomb fully expanded: %+v", r)
	}
}

// Encrypted or corrupt archives cannot be inspected, and the report says so.
func TestZipUnreadable(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, Rules{}, Limits{})
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	fw, _ := zw.CreateHeader(&zip.FileHeader{Name: "secret.txt", Method: zip.Store, Flags: 1})
	_, _ = fw.Write([]byte("ciphertext"))
	_ = zw.Close()
	if r := s.ScanReport(zipAttachment(b.Bytes())); !r.Incomplete {
		t.Errorf("encrypted entry: %+v", r)
	}
	corrupt := zipFile(map[string][]byte{"a.txt": []byte("SSN 123-45-6789")})
	if r := s.ScanReport(zipAttachment(corrupt[:len(corrupt)-30])); !r.Incomplete {
		t.Errorf("truncated archive: %+v", r)
	}
}

func categories(r Report) []Category {
	var out []Category
	for _, f := range r.Findings {
		out = append(out, f.Category)
	}
	return out
}
