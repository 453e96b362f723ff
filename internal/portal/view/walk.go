package view

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	// Importing charset also lets go-message decode headers and bodies
	// in charsets other than UTF-8.
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
)

// walker collects the bodies and the other leaves of a MIME tree.
type walker struct {
	lim   Limits
	parts int // parts opened so far, against lim.MaxParts

	text, html       string
	hasText, hasHTML bool
	bodies           int // body slots filled so far

	leaves []leaf // every part that did not become a body, in order

	incomplete bool // a limit left something out
}

// leaf is a part that is not a body: an attachment or an inline image.
type leaf struct {
	mediaType string
	name      string // as sent, decoded but not yet made safe
	contentID string
	data      []byte
}

// entity handles one MIME entity. depth counts the multiparts around it;
// mayBeBody says whether its position lets it become the text or HTML
// body; inDigest switches the default type to message/rfc822 (RFC 2046
// §5.1.5).
func (w *walker) entity(h textproto.Header, body io.Reader, depth int, mayBeBody, inDigest bool) {
	mt, params := contentType(h, inDigest)
	if strings.HasPrefix(mt, "multipart/") {
		w.multipart(mt, params, body, depth, mayBeBody)
		return
	}
	w.leaf(h, mt, body, mayBeBody)
}

// multipart reads the parts of a multipart entity until its end, the first
// malformed delimiter, or the part limit.
func (w *walker) multipart(mt string, params map[string]string, body io.Reader, depth int, mayBeBody bool) {
	boundary := params["boundary"]
	if boundary == "" {
		return
	}
	if depth >= w.lim.MaxDepth {
		w.incomplete = true
		return
	}
	sub := strings.TrimPrefix(mt, "multipart/")
	start := trimID(params["start"])
	bodiesBefore := w.bodies
	mr := textproto.NewMultipartReader(body, boundary)
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err != nil {
			// io.EOF, or a broken structure: keep what was read.
			return
		}
		if w.parts >= w.lim.MaxParts {
			w.incomplete = true // a part exists beyond the limit
			return
		}
		w.parts++
		may := mayBeBody
		switch sub {
		case "alternative":
			// Each alternative may fill whichever of text and HTML is
			// still missing.
		case "related":
			// RFC 2387 §3.2: the root is the part named by start, or the
			// first one.
			if start != "" {
				may = may && trimID(p.Header.Get("Content-Id")) == start
			} else {
				may = may && i == 0
			}
		default:
			// mixed, signed and unknown subtypes (RFC 2046 §5.1.7): only
			// the first body-like part is the body; later ones are files.
			may = may && w.bodies == bodiesBefore
		}
		w.entity(p.Header, p, depth+1, may, sub == "digest")
	}
}

// leaf reads a single part into a body slot or the leaf list.
func (w *walker) leaf(h textproto.Header, mt string, body io.Reader, mayBeBody bool) {
	disp, name := dispositionAndName(h)
	isText, isHTML := mt == "text/plain", mt == "text/html"
	if mayBeBody && disp != "attachment" && name == "" &&
		(isText && !w.hasText || isHTML && !w.hasHTML) {
		s := w.readText(h, body)
		if isText {
			w.text, w.hasText = s, true
		} else {
			w.html, w.hasHTML = s, true
		}
		w.bodies++
		return
	}
	data, complete := readLimited(transferDecoded(h, body), sizeHint(body), w.lim.MaxPartBytes)
	if !complete {
		// A file cut short would look intact to whoever opens it.
		w.incomplete = true
		return
	}
	w.leaves = append(w.leaves, leaf{
		mediaType: mt,
		name:      name,
		contentID: trimID(h.Get("Content-Id")),
		data:      data,
	})
}

// readText decodes a text body to valid UTF-8. Bodies longer than the part
// limit are cut rather than dropped: the start of a letter is still worth
// reading.
func (w *walker) readText(h textproto.Header, body io.Reader) string {
	_, params := contentType(h, false)
	raw, complete := readLimited(transferDecoded(h, body), sizeHint(body), w.lim.MaxPartBytes)
	if !complete {
		w.incomplete = true
	}
	return decodeText(raw, params["charset"])
}

// decodeText converts text in the named charset to valid UTF-8.
func decodeText(raw []byte, cs string) string {
	cs = strings.ToLower(strings.TrimSpace(cs))
	converted := false
	if cs != "" && cs != "utf-8" && cs != "us-ascii" {
		raw, converted = toUTF8(cs, raw)
	}
	if !converted && cs != "utf-8" && !utf8.Valid(raw) {
		// Undeclared, mislabelled or unknown 8-bit text is almost always
		// Windows-1252 in practice.
		raw, _ = toUTF8("windows-1252", raw)
	}
	if utf8.Valid(raw) {
		return string(raw) // checked eight ASCII bytes at a time, not rune by rune
	}
	return strings.ToValidUTF8(string(raw), string(utf8.RuneError))
}

// toUTF8 converts raw from the named charset, reporting whether it could.
func toUTF8(cs string, raw []byte) ([]byte, bool) {
	r, err := charset.Reader(cs, bytes.NewReader(raw))
	if err != nil {
		return raw, false
	}
	out, err := io.ReadAll(r)
	if err != nil && len(out) == 0 {
		return raw, false
	}
	return out, true
}

// transferDecoded undoes the Content-Transfer-Encoding only. Attachments
// keep the bytes the sender attached; charset conversion is for bodies.
func transferDecoded(h textproto.Header, body io.Reader) io.Reader {
	if br, ok := body.(*bytes.Reader); ok && fastQP && strings.ToLower(h.Get("Content-Transfer-Encoding")) == "quoted-printable" {
		// Held in memory: decoded in one pass, unless it is broken in a way only
		// the library's reader knows how to handle (decodeQP).
		src := make([]byte, br.Len())
		br.ReadAt(src, br.Size()-int64(br.Len()))
		if out, ok := decodeQP(src); ok {
			return bytes.NewReader(out)
		}
	}
	var only message.Header
	if enc := h.Get("Content-Transfer-Encoding"); enc != "" {
		only.Set("Content-Transfer-Encoding", enc)
	}
	// Without Content-Type, New applies no charset. An unknown encoding
	// comes back undecoded, which is the best that can be done with it.
	e, _ := message.New(only, body)
	if e == nil {
		return body
	}
	return e.Body
}

// readLimited reads up to limit bytes. complete is false when more was
// available. Read errors keep what was read before them: truncated or
// malformed encodings are common and the start is usually intact.
func readLimited(r io.Reader, hint int, limit int64) (data []byte, complete bool) {
	// Decoding never makes a part longer than its encoded bytes: with their number known
	// (a single-part message), one allocation holds it all instead of a doubling series.
	data = make([]byte, 0, max(512, min(int64(hint), limit)+1))
	r = io.LimitReader(r, limit+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err != nil {
			break
		}
	}
	if int64(len(data)) > limit {
		return data[:limit], false
	}
	return data, true
}

// sizeHint is how many bytes are left in body, when that is known without reading it.
func sizeHint(body io.Reader) int {
	if b, ok := body.(*bytes.Reader); ok {
		return b.Len()
	}
	return 0
}

// contentType returns the lower-case media type and its parameters, with
// the RFC 2045 §5.2 default for a missing field and a best guess for a
// malformed one.
func contentType(h textproto.Header, inDigest bool) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		if inDigest {
			return "message/rfc822", nil
		}
		return "text/plain", nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil && mt == "" {
		mt, _, _ = strings.Cut(v, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		params = lenientParams(v)
	}
	if i := strings.IndexByte(mt, '/'); i <= 0 || i == len(mt)-1 {
		// RFC 2045 §5.2: an unreadable type is treated as text/plain, but
		// a file of unknown kind is safer offered as a download.
		return "application/octet-stream", params
	}
	return mt, params
}

// trimID strips the angle brackets and spaces around a msg-id.
func trimID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return strings.TrimSpace(s)
}
