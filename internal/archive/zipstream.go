package archive

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"
	"unicode/utf8"
)

// zipWriter writes a zip archive (PKWARE APPNOTE.TXT 6.3.10) to a stream in constant
// memory. Exports do not use archive/zip's Writer because it keeps every file's header
// in memory until Close writes the central directory: some 450 bytes a message, 48 MiB
// for 100,000. Here each entry's central-directory record (name, sizes, CRC-32, offset;
// never content) is appended to a temporary file when the entry ends, and copied to the
// output at Close. Entries are Deflate-compressed with a data descriptor after the data,
// so nothing is seeked back to or buffered per entry. ZIP64 records are written where
// counts, sizes or offsets pass the classic format's limits.
type zipWriter struct {
	out    *zipCounter
	dir    *os.File // central-directory records, in entry order
	dirW   *bufio.Writer
	count  uint64 // entries written
	fw     *flate.Writer
	cur    *zipEntry
	buf    []byte // scratch for headers
	closed bool
}

// zipSize says how large an entry may grow, which its local header must declare
// before the size is known.
type zipSize int

const (
	zipSmall zipSize = iota // under 4 GiB: a classic local header; more is an error
	zipLarge                // any size: a ZIP64 local header and data descriptor
)

// zipSizeFor is the size to create an entry of n bytes, known beforehand, with: Deflate
// may add up to 5 bytes per 64 KiB block to data it cannot compress, so near 4 GiB the
// compressed size may not fit where the uncompressed one does.
func zipSizeFor(n int64) zipSize {
	if n < max32-1<<20 {
		return zipSmall
	}
	return zipLarge
}

const (
	max16 = math.MaxUint16
	max32 = math.MaxUint32

	zipVersion20 = 20 // Deflate, data descriptor (APPNOTE 4.4.3.2)
	zipVersion45 = 45 // ZIP64

	zipFlagDescriptor = 1 << 3  // sizes and CRC-32 follow the data (APPNOTE 4.4.4)
	zipFlagUTF8       = 1 << 11 // name is UTF-8 (APPNOTE 4.4.4, appendix D)
	zipMethodDeflate  = 8

	zipLocalSig      = 0x04034b50
	zipDescriptorSig = 0x08074b50
	zipCentralSig    = 0x02014b50
	zipEnd64Sig      = 0x06064b50
	zipLocator64Sig  = 0x07064b50
	zipEndSig        = 0x06054b50

	zipExtra64   = 0x0001 // ZIP64 extended information (APPNOTE 4.5.3)
	zipExtraTime = 0x5455 // extended timestamp, UTC modification time (Info-ZIP extrafld.txt)
)

// zipCounter counts what goes to the output: every offset in the archive is one of its
// readings.
type zipCounter struct {
	w *bufio.Writer
	n uint64
}

func (c *zipCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n) // #nosec G115 -- a count written, never negative
	return n, err
}

// newZipWriter starts an archive on w. Close (or discard, on failure) removes its
// temporary file.
func newZipWriter(w io.Writer) (*zipWriter, error) {
	dir, err := os.CreateTemp("", "sealpost-zipdir-*")
	if err != nil {
		return nil, fmt.Errorf("zip: central directory file: %w", err)
	}
	fw, err := flate.NewWriter(nil, 5) // the level archive/zip uses
	if err != nil {
		dir.Close()
		os.Remove(dir.Name())
		return nil, err
	}
	return &zipWriter{
		out:  &zipCounter{w: bufio.NewWriterSize(w, 64<<10)},
		dir:  dir,
		dirW: bufio.NewWriterSize(dir, 32<<10),
		fw:   fw,
	}, nil
}

// zipEntry is the file being written; it is an io.Writer until the next Create or Close.
type zipEntry struct {
	z      *zipWriter
	name   string
	size   zipSize
	time   []byte // extended timestamp extra field, or nil
	dosT   uint16
	dosD   uint16
	offset uint64 // of the local header
	start  uint64 // of the compressed data
	crc    uint32
	n      uint64 // uncompressed bytes
}

// Create begins the next entry, ending the one before. name is stored as UTF-8.
func (z *zipWriter) Create(name string, modified time.Time, size zipSize) (io.Writer, error) {
	if z.closed {
		return nil, errors.New("zip: create after close")
	}
	if name == "" || len(name) > max16 || !utf8.ValidString(name) {
		return nil, fmt.Errorf("zip: entry name must be 1 to %d bytes of UTF-8", max16)
	}
	if err := z.endEntry(); err != nil {
		return nil, err
	}
	e := &zipEntry{z: z, name: name, size: size, offset: z.out.n}
	e.dosD, e.dosT = msDosTime(modified)
	if u := modified.Unix(); u >= 0 && u <= math.MaxInt32 {
		e.time = binary.LittleEndian.AppendUint16(nil, zipExtraTime)
		e.time = binary.LittleEndian.AppendUint16(e.time, 5)
		e.time = append(e.time, 1) // flags: modification time present
		e.time = binary.LittleEndian.AppendUint32(e.time, uint32(u))
	}

	// Local file header, APPNOTE 4.3.7. With bit 3 set the CRC-32 and sizes are zero
	// here (4.4.4); a ZIP64 entry marks its sizes 0xFFFFFFFF and carries them, zero, in
	// a ZIP64 extra field, which the local header's must hold both of (4.5.3), so that
	// its data descriptor has 8-byte sizes (4.3.9.2).
	version, sizes := uint16(zipVersion20), uint32(0)
	extra := e.time
	if size == zipLarge {
		version, sizes = zipVersion45, max32
		extra = binary.LittleEndian.AppendUint16(nil, zipExtra64)
		extra = binary.LittleEndian.AppendUint16(extra, 16)
		extra = append(extra, make([]byte, 16)...)
		extra = append(extra, e.time...)
	}
	b := z.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, zipLocalSig)
	b = binary.LittleEndian.AppendUint16(b, version)
	b = binary.LittleEndian.AppendUint16(b, zipFlagDescriptor|zipFlagUTF8)
	b = binary.LittleEndian.AppendUint16(b, zipMethodDeflate)
	b = binary.LittleEndian.AppendUint16(b, e.dosT)
	b = binary.LittleEndian.AppendUint16(b, e.dosD)
	b = binary.LittleEndian.AppendUint32(b, 0) // CRC-32
	b = binary.LittleEndian.AppendUint32(b, sizes)
	b = binary.LittleEndian.AppendUint32(b, sizes)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))  // #nosec G115 -- checked above
	b = binary.LittleEndian.AppendUint16(b, uint16(len(extra))) // #nosec G115 -- at most 29
	b = append(b, name...)
	b = append(b, extra...)
	z.buf = b
	if _, err := z.out.Write(b); err != nil {
		return nil, err
	}
	e.start = z.out.n
	z.fw.Reset(z.out)
	z.cur = e
	return e, nil
}

func (e *zipEntry) Write(p []byte) (int, error) {
	if e.z.cur != e {
		return 0, errors.New("zip: write to an ended entry")
	}
	if e.size == zipSmall && e.n+uint64(len(p)) >= max32 {
		return 0, fmt.Errorf("zip: entry %s reaches 4 GiB but was not created large", e.name)
	}
	e.crc = crc32.Update(e.crc, crc32.IEEETable, p)
	e.n += uint64(len(p))
	return e.z.fw.Write(p)
}

// endEntry finishes the open entry, if any: the rest of its compressed data, its data
// descriptor, and its central-directory record into the temporary file.
func (z *zipWriter) endEntry() error {
	e := z.cur
	if e == nil {
		return nil
	}
	z.cur = nil
	if err := z.fw.Close(); err != nil {
		return err
	}
	csize := z.out.n - e.start
	if e.size == zipSmall && csize >= max32 {
		return fmt.Errorf("zip: entry %s compressed to 4 GiB but was not created large", e.name)
	}

	// Data descriptor, APPNOTE 4.3.9, with its optional signature.
	b := z.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, zipDescriptorSig)
	b = binary.LittleEndian.AppendUint32(b, e.crc)
	if e.size == zipLarge {
		b = binary.LittleEndian.AppendUint64(b, csize)
		b = binary.LittleEndian.AppendUint64(b, e.n)
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(csize)) // #nosec G115 -- below 4 GiB, checked above
		b = binary.LittleEndian.AppendUint32(b, uint32(e.n))   // #nosec G115 -- below 4 GiB, checked on write
	}
	if _, err := z.out.Write(b); err != nil {
		return err
	}

	// Central directory header, APPNOTE 4.3.12. A field that does not fit is 0xFFFFFFFF
	// and its value goes, in this order, into a ZIP64 extra field (4.5.3).
	var z64 []byte
	fit := func(v uint64) uint32 {
		if v >= max32 {
			z64 = binary.LittleEndian.AppendUint64(z64, v)
			return max32
		}
		return uint32(v) // #nosec G115 -- below 4 GiB, checked above
	}
	usize32 := fit(e.n)
	csize32 := fit(csize)
	off32 := fit(e.offset)
	version := uint16(zipVersion20)
	if e.size == zipLarge || z64 != nil {
		version = zipVersion45
	}
	extra := e.time
	if z64 != nil {
		extra = binary.LittleEndian.AppendUint16(nil, zipExtra64)
		extra = binary.LittleEndian.AppendUint16(extra, uint16(len(z64))) // #nosec G115 -- at most 24
		extra = append(extra, z64...)
		extra = append(extra, e.time...)
	}
	b = b[:0]
	b = binary.LittleEndian.AppendUint32(b, zipCentralSig)
	b = binary.LittleEndian.AppendUint16(b, version) // made by: MS-DOS attributes, this spec version
	b = binary.LittleEndian.AppendUint16(b, version) // needed to extract
	b = binary.LittleEndian.AppendUint16(b, zipFlagDescriptor|zipFlagUTF8)
	b = binary.LittleEndian.AppendUint16(b, zipMethodDeflate)
	b = binary.LittleEndian.AppendUint16(b, e.dosT)
	b = binary.LittleEndian.AppendUint16(b, e.dosD)
	b = binary.LittleEndian.AppendUint32(b, e.crc)
	b = binary.LittleEndian.AppendUint32(b, csize32)
	b = binary.LittleEndian.AppendUint32(b, usize32)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name))) // #nosec G115 -- checked by Create
	b = binary.LittleEndian.AppendUint16(b, uint16(len(extra)))  // #nosec G115 -- at most 37
	b = binary.LittleEndian.AppendUint16(b, 0)                   // comment length
	b = binary.LittleEndian.AppendUint16(b, 0)                   // disk number start
	b = binary.LittleEndian.AppendUint16(b, 0)                   // internal attributes
	b = binary.LittleEndian.AppendUint32(b, 0)                   // external attributes
	b = binary.LittleEndian.AppendUint32(b, off32)
	b = append(b, e.name...)
	b = append(b, extra...)
	z.buf = b
	if _, err := z.dirW.Write(b); err != nil {
		return fmt.Errorf("zip: central directory file: %w", err)
	}
	z.count++
	return nil
}

// Close ends the last entry, copies the central directory to the output after it,
// writes the end records, flushes, and removes the temporary file.
func (z *zipWriter) Close() error {
	if z.closed {
		return errors.New("zip: already closed")
	}
	defer z.discard()
	if err := z.endEntry(); err != nil {
		return err
	}
	z.closed = true
	if err := z.dirW.Flush(); err != nil {
		return fmt.Errorf("zip: central directory file: %w", err)
	}
	if _, err := z.dir.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("zip: central directory file: %w", err)
	}
	dirAt := z.out.n
	if _, err := io.Copy(z.out, z.dir); err != nil {
		return err
	}
	dirSize := z.out.n - dirAt

	// End of central directory record, APPNOTE 4.3.16. A count, size or offset that
	// does not fit is all ones there and given in full by the ZIP64 end of central
	// directory record (4.3.14) and its locator (4.3.15) just before (4.4.1.4).
	count16, size32, at32 := uint16(min(z.count, max16)), uint32(min(dirSize, max32)), uint32(min(dirAt, max32))
	b := z.buf[:0]
	if z.count >= max16 || dirSize >= max32 || dirAt >= max32 {
		end64At := z.out.n
		b = binary.LittleEndian.AppendUint32(b, zipEnd64Sig)
		b = binary.LittleEndian.AppendUint64(b, 44) // size of the rest of this record
		b = binary.LittleEndian.AppendUint16(b, zipVersion45)
		b = binary.LittleEndian.AppendUint16(b, zipVersion45)
		b = binary.LittleEndian.AppendUint32(b, 0) // this disk
		b = binary.LittleEndian.AppendUint32(b, 0) // disk where the directory starts
		b = binary.LittleEndian.AppendUint64(b, z.count)
		b = binary.LittleEndian.AppendUint64(b, z.count)
		b = binary.LittleEndian.AppendUint64(b, dirSize)
		b = binary.LittleEndian.AppendUint64(b, dirAt)

		b = binary.LittleEndian.AppendUint32(b, zipLocator64Sig)
		b = binary.LittleEndian.AppendUint32(b, 0) // disk of the ZIP64 end record
		b = binary.LittleEndian.AppendUint64(b, end64At)
		b = binary.LittleEndian.AppendUint32(b, 1) // disks in all
	}
	b = binary.LittleEndian.AppendUint32(b, zipEndSig)
	b = binary.LittleEndian.AppendUint16(b, 0) // this disk
	b = binary.LittleEndian.AppendUint16(b, 0) // disk where the directory starts
	b = binary.LittleEndian.AppendUint16(b, count16)
	b = binary.LittleEndian.AppendUint16(b, count16)
	b = binary.LittleEndian.AppendUint32(b, size32)
	b = binary.LittleEndian.AppendUint32(b, at32)
	b = binary.LittleEndian.AppendUint16(b, 0) // comment length
	z.buf = b
	if _, err := z.out.Write(b); err != nil {
		return err
	}
	return z.out.w.Flush()
}

// discard removes the temporary file; an archive not closed stays unfinished. It may
// be called more than once, and after Close.
func (z *zipWriter) discard() {
	z.closed = true
	if z.dir != nil {
		z.dir.Close()
		os.Remove(z.dir.Name())
		z.dir = nil
	}
}

// msDosTime is t's wall clock in MS-DOS date and time fields (APPNOTE 4.4.6), two-second
// resolution, held to the years the fields can hold.
func msDosTime(t time.Time) (date, clock uint16) {
	switch {
	case t.Year() < 1980:
		return 1<<5 | 1, 0
	case t.Year() > 2107:
		return 127<<9 | 12<<5 | 31, 23<<11 | 59<<5 | 29
	}
	date = uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day())    // #nosec G115 -- year 1980-2107, checked above
	clock = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2) // #nosec G115 -- clock fields are small
	return date, clock
}
