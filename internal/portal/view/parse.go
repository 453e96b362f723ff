package view

import (
	"bufio"
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Parse reads a whole message. Malformed MIME does not make it fail: it
// returns whatever could be read, and an error only when nothing usable
// could be read at all. Parts beyond lim are skipped silently.
func Parse(raw []byte, lim Limits) (*Message, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errNothingReadable
	}
	h, body := splitHeader(raw)
	m := &Message{}
	readHeaders(m, h)

	w := &walker{lim: lim.withDefaults()}
	w.entity(h, bytes.NewReader(body), 0, true, false)
	if w.parts == 0 && !w.hasText && !w.hasHTML && len(w.leaves) == 0 {
		// A multipart whose boundary never appears yields nothing; the
		// undecoded body is still better than an empty page.
		if mt, _ := contentType(h, false); strings.HasPrefix(mt, "multipart/") {
			body = body[:min(int64(len(body)), w.lim.MaxPartBytes)]
			w.text, w.hasText = decodeText(body, ""), len(bytes.TrimSpace(body)) > 0
		}
	}
	w.finish(m)
	if !m.usable() {
		return nil, errNothingReadable
	}
	return m, nil
}

// splitHeader separates the header block from the body. Lines that are
// neither fields nor continuations are dropped rather than ending the
// header early, so one bad line does not turn Content-Type into body text.
// Input that does not start with a field is treated as a body without
// header.
func splitHeader(raw []byte) (textproto.Header, []byte) {
	// An mbox "From " separator line is not part of the message.
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	end, bodyStart := len(raw), len(raw)
	switch {
	case bytes.HasPrefix(raw, []byte("\r\n")):
		end, bodyStart = 0, 2
	case bytes.HasPrefix(raw, []byte("\n")):
		end, bodyStart = 0, 1
	default:
		if i := blankLine(raw); i >= 0 {
			end = i
			bodyStart = i + 1
			if raw[bodyStart] == '\r' {
				bodyStart++
			}
			bodyStart++
		}
	}
	block := raw[:end]
	first, _, _ := bytes.Cut(block, []byte("\n"))
	switch {
	case end == 0:
		return textproto.Header{}, raw[bodyStart:]
	case !isFieldLine(first):
		return textproto.Header{}, raw
	}
	var kept bytes.Buffer
	keep := false
	for line := range bytes.Lines(block) {
		trimmed := bytes.TrimRight(line, "\r\n")
		switch {
		case len(trimmed) > 0 && (trimmed[0] == ' ' || trimmed[0] == '\t'):
			// A continuation belongs to the field before it.
		default:
			keep = isFieldLine(trimmed)
		}
		if keep {
			kept.Write(trimmed)
			kept.WriteString("\r\n")
		}
	}
	kept.WriteString("\r\n")
	// The block was filtered to well-formed lines, so an error here can
	// only leave the header shorter.
	h, _ := textproto.ReadHeader(bufio.NewReader(&kept))
	return h, raw[bodyStart:]
}

// blankLine returns the index of the newline ending the last header line,
// or -1 when there is no empty line.
func blankLine(raw []byte) int {
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] != '\n' {
			continue
		}
		if raw[i+1] == '\n' || raw[i+1] == '\r' && i+2 < len(raw) && raw[i+2] == '\n' {
			return i
		}
	}
	return -1
}

// isFieldLine reports whether line starts a header field: a name of
// printable ASCII (RFC 5322 §2.2) followed by a colon, allowing the spaces
// before the colon seen in the wild.
func isFieldLine(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	name = bytes.TrimRight(name, " \t")
	if !ok || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// readHeaders fills the display fields of m.
func readHeaders(m *Message, h textproto.Header) {
	mh := mail.Header{Header: message.Header{Header: h}}
	m.From = addressField(mh, "From")
	m.To = addressField(mh, "To")
	m.Cc = addressField(mh, "Cc")
	subject, _ := mh.Subject() // the raw value comes back on error
	m.Subject = displayText(subject)
	if d, err := mh.Date(); err == nil {
		m.Date = d
	}
	id, err := mh.MessageID()
	if err != nil {
		id = strings.Trim(strings.TrimSpace(mh.Get("Message-Id")), "<>")
	}
	m.MessageID = displayText(id)
}

// addressField renders an address list header for display, falling back
// to the decoded text when the list does not parse.
func addressField(mh mail.Header, key string) string {
	list, err := mh.AddressList(key)
	if err != nil {
		text, _ := mh.Text(key)
		return displayText(text)
	}
	parts := make([]string, 0, len(list))
	for _, a := range list {
		name := displayText(a.Name)
		addr := displayText(a.Address)
		switch {
		case name == "":
			parts = append(parts, addr)
		case addr == "":
			parts = append(parts, name)
		default:
			parts = append(parts, name+" <"+addr+">")
		}
	}
	return strings.Join(parts, ", ")
}

// displayText makes a decoded header value fit for one line of plain text:
// valid UTF-8, no control or bidirectional override characters (which can
// make text display differently from what it says), single spaces.
func displayText(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
