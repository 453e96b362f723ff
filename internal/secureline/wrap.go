package secureline

import (
	"bytes"
	"errors"
	"strings"
)

// NeutralSubject replaces the subject outside an encrypted message: the real one, which
// may hold PHI, travels inside as a protected header.
const NeutralSubject = "Encrypted message"

// splitMessage divides a built message (CRLF line ends) into the header fields that
// stay outside the encryption — routing and identity — and the content entity that is
// encrypted: the Content-* fields and the body. The entity also carries copies of the
// identity fields and the real subject as protected headers (Content-Type parameter
// protected-headers="v1"), so a client that understands them shows the true subject;
// outside, the subject is neutral.
func splitMessage(raw []byte) (outer, entity []byte, err error) {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, nil, errors.New("message has no header/body separator")
	}
	body := raw[end+4:]
	var out, content, protected bytes.Buffer
	sawType := false
	for _, f := range fields(raw[:end+2]) {
		name := strings.ToLower(fieldName(f))
		switch {
		case name == "content-type":
			sawType = true
			// Append the parameter to the (possibly folded) field, before its CRLF.
			content.Write(f[:len(f)-2])
			content.WriteString(";\r\n protected-headers=\"v1\"\r\n")
		case strings.HasPrefix(name, "content-"):
			content.Write(f)
		case name == "subject":
			protected.Write(f)
			out.WriteString("Subject: " + NeutralSubject + "\r\n")
		case name == "from" || name == "to" || name == "cc" || name == "reply-to" || name == "date" || name == "message-id":
			protected.Write(f)
			out.Write(f)
		default:
			out.Write(f)
		}
	}
	if !sawType {
		content.WriteString("Content-Type: text/plain; charset=us-ascii;\r\n protected-headers=\"v1\"\r\n")
	}
	var e bytes.Buffer
	e.Grow(content.Len() + protected.Len() + len(body) + 2)
	e.Write(content.Bytes())
	e.Write(protected.Bytes())
	e.WriteString("\r\n")
	e.Write(body)
	return out.Bytes(), e.Bytes(), nil
}

// joinMessage puts the outer fields in front of an encrypted entity (its own header
// fields and body).
func joinMessage(outer, entity []byte) []byte {
	b := make([]byte, 0, len(outer)+len(entity))
	b = append(b, outer...)
	return append(b, entity...)
}

// fields splits a header block into fields, each with its continuation lines and
// final CRLF.
func fields(h []byte) [][]byte {
	var out [][]byte
	for len(h) > 0 {
		n := 0
		for {
			i := bytes.Index(h[n:], []byte("\r\n"))
			if i < 0 {
				n = len(h)
				break
			}
			n += i + 2
			if n >= len(h) || (h[n] != ' ' && h[n] != '\t') {
				break
			}
		}
		out = append(out, h[:n])
		h = h[n:]
	}
	return out
}

func fieldName(f []byte) string {
	name, _, _ := bytes.Cut(f, []byte(":"))
	return string(bytes.TrimSpace(name))
}
