package message

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode"
)

const (
	maxFilename  = 255 // common file system limit for one path component
	maxContentID = 250 // keeps "Content-ID: <...>" on one line
	maxMessageID = 250 // likewise for Message-ID
	defaultType  = "application/octet-stream"
)

// checkFilename accepts a bare file name: recipients' mail clients save
// attachments under this name, so anything that could act as a path or hide
// the real extension is refused.
func checkFilename(raw string) string {
	if len(raw) > maxFilename {
		return "is longer than 255 bytes"
	}
	name, det := canonicalText(raw)
	switch {
	case det != "":
		return det
	case len(name) > maxFilename:
		return "is longer than 255 bytes once decoded"
	case strings.ContainsAny(name, "/\\"):
		return "must not contain path separators"
	case name == "." || name == "..":
		return "must be a file name, not a directory reference"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return detailControl
		}
		// Right-to-left overrides and friends make "gpj.exe" display as
		// "exe.jpg"; there is no legitimate use in a file name.
		if unicode.Is(unicode.Bidi_Control, r) {
			return "must not contain bidirectional control characters"
		}
	}
	return ""
}

// checkContentType accepts a media type (RFC 2045 §5.1) for an attachment.
func checkContentType(ct string, l Limits) (int, string) {
	if len(ct) > l.MaxHeaderValueBytes {
		return statusTooLarge, fmt.Sprintf("is longer than %d bytes", l.MaxHeaderValueBytes)
	}
	if det := checkText(ct); det != "" {
		return statusInvalid, det
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return statusInvalid, "is not a valid media type"
	}
	// Composite types need a structure this package builds itself; an
	// attachment claiming one would be parsed by recipients as MIME.
	if strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/") {
		return statusSemantic, "must not be a multipart or message type"
	}
	// Attachments are sent byte for byte, and the MIME writer only labels
	// content as UTF-8 or US-ASCII.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return statusSemantic, "charset must be utf-8 or us-ascii"
	}
	for k, v := range params {
		if checkText(k) != "" || checkText(v) != "" {
			return statusInvalid, "has a parameter with control characters"
		}
	}
	return 0, ""
}

// checkContentID accepts a Content-ID value without brackets (RFC 2045 §7,
// RFC 2392). Most generators use the msg-id form; a bare token is accepted
// too since clients resolve cid: by string comparison.
func checkContentID(cid string) string {
	if len(cid) > maxContentID {
		return "is longer than 250 bytes"
	}
	for i := 0; i < len(cid); i++ {
		if c := cid[i]; c != '.' && c != '@' && !isAtext(c) {
			return "may contain only letters, digits and the symbols allowed in an address, without brackets"
		}
	}
	return ""
}

// checkMessageID accepts id-left "@" id-right, both dot-atom-text (RFC 5322
// §3.6.4), given without the angle brackets.
func checkMessageID(id string) string {
	if len(id) > maxMessageID {
		return "is longer than 250 bytes"
	}
	if strings.ContainsAny(id, "<>") {
		return "must be given without angle brackets"
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || !isDotAtomText(left) || !isDotAtomText(right) {
		return "must have the form left@right, each part made of address characters"
	}
	return ""
}

// isDotAtomText reports RFC 5322 §3.2.3 dot-atom-text.
func isDotAtomText(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	return true
}

// attachmentFields builds the part header for an attachment that passed
// validation.
func attachmentFields(a Attachment) ([]field, error) {
	mt, params := defaultType, map[string]string{}
	if a.ContentType != "" {
		var err error
		if mt, params, err = mime.ParseMediaType(a.ContentType); err != nil {
			return nil, err
		}
	}
	disposition := "attachment"
	if a.Inline {
		disposition = "inline" // RFC 2183 §2.2
	}
	var name string
	if a.Filename != "" {
		name, _ = canonicalText(a.Filename)
		// The Content-Type name parameter is obsolete but still the only
		// one some clients read.
		delete(params, "name")
	}
	ct, err := withFilename(mime.FormatMediaType(mt, params), "name", name)
	if err != nil {
		return nil, err
	}
	cd, err := withFilename(disposition, "filename", name) // RFC 2183 §2.3
	if err != nil {
		return nil, err
	}
	fields := []field{
		{"Content-Type", ct},
		{"Content-Disposition", cd},
		// RFC 2045 §6.8: base64 keeps arbitrary bytes intact in short
		// 7-bit lines.
		{"Content-Transfer-Encoding", "base64"},
	}
	if a.ContentID != "" {
		fields = append(fields, field{"Content-Id", "<" + a.ContentID + ">"}) // RFC 2045 §7
	}
	return fields, nil
}

// withFilename appends a file name parameter to a formatted header value.
// Plain ASCII goes in as a token or quoted-string; anything else uses the
// RFC 2231 §4 extended form, which also protects runs of spaces from being
// merged when the line is folded.
func withFilename(value, param, name string) (string, error) {
	if value == "" {
		return "", errors.New("cannot format attachment media type")
	}
	if name == "" {
		return value, nil
	}
	if isPlainText(name) {
		// Let the standard library decide between token and quoted-string
		// (RFC 2045 §5.1).
		v := mime.FormatMediaType("x/x", map[string]string{param: name})
		return value + v[len("x/x"):], nil
	}
	var b strings.Builder
	b.WriteString(value + "; " + param + "*=utf-8''")
	for i := 0; i < len(name); i++ {
		c := name[i]
		// RFC 2231 §7 attribute-char: token characters other than "*",
		// "'" and "%".
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String(), nil
}

// textFields builds the header of a text/plain or text/html body part.
func textFields(mediaType string) []field {
	return []field{
		{"Content-Type", mime.FormatMediaType(mediaType, map[string]string{"charset": "utf-8"})},
		// RFC 2045 §6.7: quoted-printable keeps mostly-ASCII text readable
		// and lines short whatever the body's line lengths.
		{"Content-Transfer-Encoding", "quoted-printable"},
	}
}
