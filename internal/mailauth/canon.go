package mailauth

import (
	"bytes"
	"errors"
	"strings"
)

// The message forms signatures are computed over (RFC 6376 3.4), kept to raw bytes
// so that what we hash is exactly what was received.

// crlf turns bare LF line ends into CRLF: a message read from a file or a test may
// use either, and signers hash CRLF.
func crlf(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("\n")) || bytes.Count(raw, []byte("\n")) == bytes.Count(raw, []byte("\r\n")) {
		return raw
	}
	out := make([]byte, 0, len(raw)+bytes.Count(raw, []byte("\n")))
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// splitMessage cuts a CRLF message into its header fields (each with its folded
// continuation lines and final CRLF) and its body.
func splitMessage(raw []byte) (fields [][]byte, body []byte) {
	rest := raw
	for len(rest) > 0 {
		if bytes.HasPrefix(rest, []byte("\r\n")) {
			return fields, rest[2:]
		}
		end := 0
		for {
			i := bytes.Index(rest[end:], []byte("\r\n"))
			if i < 0 {
				end = len(rest)
				break
			}
			end += i + 2
			if end >= len(rest) || (rest[end] != ' ' && rest[end] != '\t') {
				break
			}
		}
		fields = append(fields, rest[:end])
		rest = rest[end:]
	}
	return fields, nil
}

func fieldName(f []byte) string {
	name, _, _ := bytes.Cut(f, []byte(":"))
	return strings.TrimRight(string(name), " \t")
}

func fieldValue(f []byte) string {
	_, v, _ := bytes.Cut(f, []byte(":"))
	return string(v)
}

// parseTags reads a tag=value list (RFC 6376 3.2), unfolded and trimmed.
func parseTags(s string) (map[string]string, error) {
	tags := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errors.New("malformed tag list")
		}
		if _, dup := tags[k]; dup {
			return nil, errors.New("duplicate tag")
		}
		tags[k] = unfoldWS(strings.TrimSpace(v))
	}
	return tags, nil
}

// unfoldWS removes folding (CRLF before whitespace) and collapses whitespace runs.
func unfoldWS(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func stripWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// emptyB is the signature field with the value of its b= tag removed, every other
// byte kept (RFC 6376 3.7).
func emptyB(f []byte) []byte {
	colon := bytes.IndexByte(f, ':')
	if colon < 0 {
		return f
	}
	out := append([]byte{}, f[:colon+1]...)
	parts := bytes.Split(f[colon+1:], []byte(";"))
	for i, p := range parts {
		if i > 0 {
			out = append(out, ';')
		}
		k, _, ok := bytes.Cut(p, []byte("="))
		if ok && string(bytes.TrimSpace(k)) == "b" {
			eq := bytes.IndexByte(p, '=')
			out = append(out, p[:eq+1]...)
			// Keep the field's final CRLF if b= was the last tag.
			if bytes.HasSuffix(p, []byte("\r\n")) {
				out = append(out, '\r', '\n')
			}
			continue
		}
		out = append(out, p...)
	}
	return out
}

// canonHeader is one field in simple (as is) or relaxed form: name lower-cased,
// folding removed, whitespace runs one space, none around the colon or at the end.
func canonHeader(f []byte, relaxed bool) []byte {
	if !relaxed {
		return f
	}
	name, value, _ := bytes.Cut(f, []byte(":"))
	v := strings.ReplaceAll(string(value), "\r\n", "")
	v = strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' }), " ")
	return []byte(strings.ToLower(strings.TrimRight(string(name), " \t")) + ":" + v + "\r\n")
}

// canonBody is the body in simple or relaxed form; trailing empty lines go, and a
// simple empty body is one CRLF (RFC 6376 3.4.3, 3.4.4).
func canonBody(body []byte, relaxed bool) []byte {
	lines := bytes.Split(body, []byte("\r\n"))
	// A body ending in CRLF leaves an empty last element: it is not a line.
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	var out bytes.Buffer
	out.Grow(len(body) + 2)
	pending := 0 // empty lines seen but not yet known to be followed by text
	for _, l := range lines {
		if relaxed {
			l = relaxLine(l)
		}
		if len(l) == 0 {
			pending++
			continue
		}
		for ; pending > 0; pending-- {
			out.WriteString("\r\n")
		}
		out.Write(l)
		out.WriteString("\r\n")
	}
	if out.Len() == 0 && !relaxed {
		return []byte("\r\n")
	}
	return out.Bytes()
}

// relaxLine collapses each whitespace run to one space (a leading run included)
// and drops the run at the end.
func relaxLine(l []byte) []byte {
	out := make([]byte, 0, len(l))
	ws := false
	for _, c := range l {
		if c == ' ' || c == '\t' {
			ws = true
			continue
		}
		if ws {
			out = append(out, ' ')
			ws = false
		}
		out = append(out, c)
	}
	return out
}
