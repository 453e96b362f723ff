package dlp

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
)

// entryFloor is what any archive entry may expand to whatever its compression ratio:
// small, very repetitive text files are legitimate.
const entryFloor = 64 << 10

// zip scans the entries of an archive at the given nesting depth. Nothing is expanded
// past the limits: an entry that would be (a zip bomb) is skipped and the report marked
// incomplete. Sizes in the headers are not trusted; reading stops at the allowance.
func (sc *scan) zip(data []byte, depth int) {
	l := sc.s.limits
	if depth > l.MaxZipDepth {
		sc.incomplete = true
		return
	}
	// Check the entry count before the archive reader builds its whole directory.
	n, ok := zipEntries(data)
	if !ok || sc.zipEntries+n > l.MaxZipEntries {
		sc.incomplete = true
		return
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		sc.incomplete = true
		return
	}
	for _, f := range zr.File {
		if sc.zipEntries >= l.MaxZipEntries || sc.budget <= 0 {
			sc.incomplete = true
			return
		}
		sc.zipEntries++
		if f.FileInfo().IsDir() || classify(f.Name, "") == fmtSkip {
			continue
		}
		// APPNOTE 4.4.4: general purpose flag bit 0 marks an encrypted entry.
		if f.Flags&1 != 0 {
			sc.incomplete = true
			continue
		}
		content, ok := sc.expand(f)
		if !ok {
			sc.incomplete = true
			continue
		}
		sc.attachment(f.Name, "", content, depth)
	}
}

// expand reads one entry within its allowance: the ratio limit times its compressed
// size (at least entryFloor), and never more than what is left of the total.
func (sc *scan) expand(f *zip.File) ([]byte, bool) {
	l := sc.s.limits
	allow := max(int64(l.MaxZipRatio)*int64(min(f.CompressedSize64, 1<<40)), entryFloor)
	allow = min(allow, l.MaxZipTotal-sc.zipTotal)
	if allow <= 0 || f.UncompressedSize64 > uint64(allow) {
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(int64(f.UncompressedSize64), allow)) + 1) // #nosec G115 -- UncompressedSize64 <= allow, checked above
	n, err := buf.ReadFrom(io.LimitReader(rc, allow+1))
	sc.zipTotal += n
	if err != nil || n > allow {
		return nil, false // corrupt, or bigger than its header said: a bomb
	}
	return buf.Bytes(), true
}

// zipEntries reads the entry count from the end of central directory record
// (APPNOTE 4.3.16), which sits in the last 22 bytes plus at most a 64 KiB comment.
func zipEntries(data []byte) (int, bool) {
	const recLen = 22
	if len(data) < recLen {
		return 0, false
	}
	from := max(0, len(data)-recLen-0xffff)
	i := bytes.LastIndex(data[from:], []byte("PK\x05\x06"))
	if i < 0 || from+i+recLen > len(data) {
		return 0, false
	}
	rec := data[from+i:]
	// Total entries in the central directory; 0xffff defers to a Zip64 record, which
	// only an archive far over any sane entry limit needs.
	return int(binary.LittleEndian.Uint16(rec[10:12])), true
}
