package dlp

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"mime"
	"path"
	"slices"
	"strings"
)

// format is how an attachment's content is read.
type format uint8

const (
	fmtSkip  format = iota // binary we do not read: images, audio, video, fonts
	fmtText                // plain or structured text (JSON, XML, HL7, ...), entities decoded
	fmtHTML                // visible text only
	fmtCSV                 // cells labelled with their column header
	fmtTSV                 // as CSV, tab-separated
	fmtZip                 // an archive, opened within the limits
	fmtSniff               // unknown: read if it looks like text
)

// classify decides how to read an attachment from its name and declared type. The
// name's extension wins over the type, which mailers often leave as octet-stream.
func classify(name, contentType string) format {
	switch strings.ToLower(path.Ext(name)) {
	case ".zip":
		return fmtZip
	case ".html", ".htm", ".xhtml":
		return fmtHTML
	case ".csv":
		return fmtCSV
	case ".tsv", ".tab":
		return fmtTSV
	case ".txt", ".text", ".json", ".ndjson", ".xml", ".md", ".log", ".eml", ".ics", ".vcf",
		".hl7", ".yaml", ".yml", ".ccd", ".cda", ".rtf", ".sql":
		return fmtText
	case ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".ico", ".tif", ".tiff", ".mp3",
		".mp4", ".mov", ".wav", ".ttf", ".otf", ".woff", ".woff2":
		return fmtSkip
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(contentType), ";")
		mt = strings.TrimSpace(mt)
	}
	switch {
	case mt == "application/zip", mt == "application/x-zip-compressed", mt == "application/x-zip":
		return fmtZip
	case mt == "text/html", mt == "application/xhtml+xml":
		return fmtHTML
	case mt == "text/csv", mt == "application/csv", mt == "text/comma-separated-values":
		return fmtCSV
	case mt == "text/tab-separated-values":
		return fmtTSV
	case strings.HasPrefix(mt, "text/"), mt == "message/rfc822", mt == "application/json",
		mt == "application/xml", strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"),
		mt == "application/x-ndjson", mt == "application/hl7-v2", mt == "application/rtf":
		return fmtText
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"),
		strings.HasPrefix(mt, "video/"), strings.HasPrefix(mt, "font/"):
		return fmtSkip
	}
	return fmtSniff
}

// isZip reports whether data starts like a zip archive (which includes .docx, .xlsx
// and .odt documents), whatever the attachment claims to be.
func isZip(data []byte) bool {
	return bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06"))
}

// attachment scans one attachment or archive entry; depth is the number of archives
// it is inside.
func (sc *scan) attachment(name, contentType string, data []byte, depth int) {
	if len(data) == 0 || sc.budget <= 0 {
		sc.incomplete = sc.incomplete || len(data) > 0
		return
	}
	f := classify(name, contentType)
	if isZip(data) {
		f = fmtZip
	}
	if f == fmtSniff {
		f = fmtSkip
		if looksText(data) {
			f = fmtText
		}
	}
	if f == fmtSkip {
		return
	}
	if f == fmtZip {
		sc.zip(data, depth+1)
		return
	}
	// UTF-16 takes two bytes a character; never decode more than the budget can use.
	if int64(len(data)) > 2*sc.budget {
		data = data[:2*sc.budget]
		sc.incomplete = true
	}
	text := decodeText(data)
	switch f {
	case fmtHTML:
		sc.html(text)
	case fmtCSV, fmtTSV:
		comma := ','
		if f == fmtTSV {
			comma = '\t'
		}
		if t, ok := cellText(sc.clip(text), comma); ok {
			sc.text(t, true)
		} else {
			sc.text(text, true)
		}
	default:
		sc.text(text, true)
	}
}

// cellText rewrites a table so each value sits next to its column header, where a
// context term can see it: a "DOB" header labels every date below it. Cells are set
// apart by blank lines so no header reaches into the next cell. Without a header row
// (a first row with numbers in it), rows are kept as tab-separated lines.
func cellText(src string, comma rune) (string, bool) {
	r := csv.NewReader(strings.NewReader(src))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord, r.ReuseRecord = comma, true, -1, true
	first, err := r.Read()
	if err != nil {
		return "", false
	}
	var header []string
	var b strings.Builder
	b.Grow(len(src) * 2)
	if looksLikeHeader(first) {
		header = slices.Clone(first)
	} else {
		b.WriteString(strings.Join(first, "\t"))
		b.WriteString("\n")
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return b.String(), true
		}
		if err != nil {
			return "", false
		}
		if header == nil {
			b.WriteString(strings.Join(rec, "\t"))
			b.WriteString("\n")
			continue
		}
		for i, cell := range rec {
			if strings.TrimSpace(cell) == "" {
				continue
			}
			if i < len(header) {
				b.WriteString(header[i])
				b.WriteString(": ")
			}
			b.WriteString(cell)
			b.WriteString("\n\n")
		}
	}
}

// looksLikeHeader reports whether a first row names columns rather than holds data.
func looksLikeHeader(row []string) bool {
	for _, cell := range row {
		digits := 0
		for i := 0; i < len(cell); i++ {
			if isDigit(cell[i]) {
				digits++
			}
		}
		if digits >= 3 {
			return false
		}
	}
	return true
}
