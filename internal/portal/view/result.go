package view

import (
	"html"
	"net/url"
	"strings"
)

// finish moves what the walker collected into m: the bodies, then each
// other leaf as an inline image when the HTML refers to it, or else as an
// attachment.
func (w *walker) finish(m *Message) {
	m.HTML, m.Incomplete = w.html, w.incomplete
	switch {
	case w.hasText:
		m.Text = normalizeNewlines(w.text)
	case w.hasHTML:
		m.Text = htmlToText(w.html)
	}
	refs := cidRefs(w.html)
	for _, l := range w.leaves {
		if _, referenced := refs[l.contentID]; referenced && l.contentID != "" {
			if ct, ok := inlineImageType(l.mediaType); ok {
				m.Inline = append(m.Inline, Inline{ContentID: l.contentID, ContentType: ct, Data: l.data})
				continue
			}
		}
		i := len(m.Attachments)
		m.Attachments = append(m.Attachments, Attachment{
			Index:       i,
			Filename:    safeFilename(l.name, l.mediaType, i),
			ContentType: l.mediaType,
			Size:        int64(len(l.data)),
			Data:        l.data,
		})
	}
}

// inlineImageType returns the media type under which an inline part may be
// shown as an image. Only raster formats qualify: SVG is a document that
// can carry script, and anything else is not an image a browser shows.
func inlineImageType(mt string) (string, bool) {
	switch mt {
	case "image/png", "image/gif", "image/webp", "image/jpeg":
		return mt, true
	case "image/jpg", "image/pjpeg":
		return "image/jpeg", true
	default:
		return "", false
	}
}

// cidRefs returns the Content-IDs the HTML refers to with cid: URLs
// (RFC 2392), decoded, wherever they appear. Over-matching only means a
// part is offered as an image rather than a download.
func cidRefs(src string) map[string]struct{} {
	refs := map[string]struct{}{}
	// ASCII case folding only, so offsets stay those of src.
	for i := 0; i+4 <= len(src); i++ {
		if c := src[i]; c != 'c' && c != 'C' || !strings.EqualFold(src[i:i+4], "cid:") {
			continue
		}
		start := i + 4
		end := start
		for end < len(src) && !strings.ContainsRune("\"'`<>() \t\r\n\f", rune(src[end])) {
			end++
		}
		if id := cidFromURL(src[start:end]); id != "" {
			refs[id] = struct{}{}
		}
		i = end - 1
	}
	return refs
}

// cidFromURL decodes the part of a cid: URL after the scheme. HTML
// character references come first because the URL sits in an attribute.
func cidFromURL(s string) string {
	s = html.UnescapeString(s)
	if dec, err := url.PathUnescape(s); err == nil {
		s = dec
	}
	return trimID(s)
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	i := strings.IndexByte(s, '\r')
	if i < 0 {
		return s
	}
	// One pass: CRLF and a lone CR each become LF.
	var b strings.Builder
	b.Grow(len(s))
	for ; i >= 0; i = strings.IndexByte(s, '\r') {
		b.WriteString(s[:i])
		b.WriteByte('\n')
		s = s[i+1:]
		if len(s) > 0 && s[0] == '\n' {
			s = s[1:]
		}
	}
	b.WriteString(s)
	return b.String()
}
