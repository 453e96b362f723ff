package view

import (
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
)

// dispositionAndName returns the lower-case disposition type (RFC 2183)
// and the file name the sender gave, from Content-Disposition filename or,
// failing that, the older Content-Type name parameter.
func dispositionAndName(h textproto.Header) (string, string) {
	mh := message.Header{Header: h}
	rawDisp, rawType := mh.Get("Content-Disposition"), mh.Get("Content-Type")
	disp, dparams, err := mh.ContentDisposition()
	if err != nil {
		disp, _, _ = strings.Cut(rawDisp, ";")
	}
	disp = strings.ToLower(strings.TrimSpace(disp))
	_, cparams, _ := mh.ContentType()
	// The standard parser drops RFC 2231 values in charsets other than
	// UTF-8 and rejects whole fields over one bad parameter, so each field
	// is read leniently before falling back to the next. The Content-Type
	// name parameter is obsolete but still the only one some senders set.
	for _, name := range []func() string{
		func() string { return dparams["filename"] },
		func() string { return lenientParams(rawDisp)["filename"] },
		func() string { return cparams["name"] },
		func() string { return lenientParams(rawType)["name"] },
	} {
		if n := name(); n != "" {
			return disp, n
		}
	}
	return disp, ""
}

// lenientParams reads the parameters of a Content-Type or
// Content-Disposition value without failing on the malformations common in
// the wild: duplicates, stray characters, unsupported RFC 2231 charsets.
// Values are decoded, including RFC 2231 continuations and extended values
// and RFC 2047 encoded-words inside quoted strings.
func lenientParams(v string) map[string]string {
	type piece struct {
		n        int
		extended bool
		value    string
	}
	pieces := map[string][]piece{}
	segments := splitParams(v)
	for _, seg := range segments[min(1, len(segments)):] { // skip the type
		key, val, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = unquote(strings.TrimSpace(val))
		p := piece{}
		if base, ok := strings.CutSuffix(key, "*"); ok {
			key, p.extended = base, true
		}
		if base, num, ok := strings.Cut(key, "*"); ok {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 100 {
				continue
			}
			key, p.n = base, n
		}
		if key == "" {
			continue
		}
		p.value = val
		if slices.ContainsFunc(pieces[key], func(q piece) bool { return q.n == p.n }) {
			continue // a repeated parameter: the first one counts
		}
		pieces[key] = append(pieces[key], p)
	}
	out := make(map[string]string, len(pieces))
	for key, ps := range pieces {
		slices.SortStableFunc(ps, func(a, b piece) int { return a.n - b.n })
		cs := ""
		var b strings.Builder
		for i, p := range ps {
			if !p.extended {
				b.WriteString(decodeWords(p.value))
				continue
			}
			val := p.value
			if i == 0 {
				// RFC 2231 §4: charset'language'percent-encoded
				parts := strings.SplitN(val, "'", 3)
				if len(parts) == 3 {
					cs, val = strings.ToLower(parts[0]), parts[2]
				}
			}
			if dec, err := url.PathUnescape(val); err == nil {
				val = dec
			}
			b.WriteString(val)
		}
		value := b.String()
		if cs != "" && cs != "utf-8" && cs != "us-ascii" {
			if conv, ok := toUTF8(cs, []byte(value)); ok {
				value = string(conv)
			}
		}
		out[key] = value
	}
	return out
}

// splitParams splits a header value at semicolons outside quoted strings.
func splitParams(v string) []string {
	var out []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == ';' && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// unquote removes the quotes and backslash escapes of an RFC 5322
// quoted-string; other values come back unchanged. A missing closing quote
// is tolerated.
func unquote(s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	s = strings.TrimSuffix(s[1:], `"`)
	var b strings.Builder
	escaped := false
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && !escaped {
			escaped = true
			continue
		}
		escaped = false
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeWords decodes RFC 2047 encoded-words, which many clients put in
// file names although RFC 2047 §5 does not allow them there.
func decodeWords(s string) string {
	d := mime.WordDecoder{CharsetReader: charset.Reader}
	out, err := d.DecodeHeader(s)
	if err != nil {
		return s
	}
	return out
}
