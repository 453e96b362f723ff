package view

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxFilenameRunes  = 200
	maxExtensionRunes = 16
)

// extension returns the extension given to an attachment of media type mt
// that arrived without a name. A fixed table rather than the system's MIME
// database keeps names the same on every host.
func extension(mt string) string {
	switch mt {
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "application/json":
		return ".json"
	case "application/xml", "text/xml":
		return ".xml"
	case "application/msword":
		return ".doc"
	case "application/vnd.ms-excel":
		return ".xls"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return ".docx"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return ".xlsx"
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return ".p7s"
	case "application/pgp-signature", "application/pgp-encrypted":
		return ".asc"
	case "application/dicom":
		return ".dcm"
	case "message/rfc822":
		return ".eml"
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/csv":
		return ".csv"
	case "text/calendar":
		return ".ics"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/tiff":
		return ".tif"
	case "image/bmp":
		return ".bmp"
	case "image/heic":
		return ".heic"
	case "audio/mpeg":
		return ".mp3"
	case "video/mp4":
		return ".mp4"
	default:
		return ""
	}
}

// safeFilename turns the name a sender gave into one that is safe to show
// and to put in a Content-Disposition header: the last path component only,
// no control or bidirectional override characters, none of the characters
// Windows refuses, no leading dots, at most 200 runes. index is the 0-based
// attachment number, used for the fallback name.
func safeFilename(name, mediaType string, index int) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			// Dropped: they hide or reorder what the name says.
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Join(strings.Fields(b.String()), " ")
	// Leading dots hide files and "..": trailing dots and spaces are
	// silently removed by Windows, which could expose another extension.
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if mediaType == "message/rfc822" && name != "" && !strings.HasSuffix(strings.ToLower(name), ".eml") {
		name += ".eml"
	}
	if name == "" {
		name = "attachment-" + strconv.Itoa(index+1) + extension(mediaType)
	}
	if isReservedName(name) {
		name = "_" + name
	}
	return truncateName(name)
}

// truncateName shortens name to maxFilenameRunes, keeping a short
// extension so the file still opens with the right program.
func truncateName(name string) string {
	if utf8.RuneCountInString(name) <= maxFilenameRunes {
		return name
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && utf8.RuneCountInString(name[i:]) <= maxExtensionRunes {
		stem, ext = name[:i], name[i:]
	}
	keep := maxFilenameRunes - utf8.RuneCountInString(ext)
	runes := []rune(stem)
	stem = strings.TrimRight(string(runes[:keep]), ". ")
	return stem + ext
}

// isReservedName reports device names Windows will not create as files,
// whatever the extension (CON, NUL, COM1, ...).
func isReservedName(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	switch s := strings.ToUpper(strings.TrimSpace(stem)); s {
	case "CON", "PRN", "AUX", "NUL":
		return true
	default:
		return len(s) == 4 && (strings.HasPrefix(s, "COM") || strings.HasPrefix(s, "LPT")) && s[3] >= '1' && s[3] <= '9'
	}
}
