package view

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// finishFragment does what the allowlist cannot express, on its already
// safe output: it points cid: images at the portal through cidURL and
// makes every link open in a new tab without opener or referrer. It works
// on tokens rather than a parsed tree so the markup is not restructured;
// tokens it does not change are copied byte for byte.
func finishFragment(s string, cidURL func(string) string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			// io.EOF: the input is in memory, so there is no other error.
			return b.String()
		}
		raw := string(z.Raw())
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.WriteString(raw)
			continue
		}
		tok := z.Token()
		switch tok.DataAtom {
		case atom.A:
			b.WriteString(fixLink(tok).String())
		case atom.Img:
			if img, ok := fixImage(tok, cidURL); ok {
				b.WriteString(img.String())
			}
		default:
			b.WriteString(raw)
		}
	}
}

// fixLink sets rel and target on a link that has a target URL: the page it
// opens gets neither a handle on the portal window nor its address.
func fixLink(tok html.Token) html.Token {
	attrs := tok.Attr[:0:0]
	hasHref := false
	for _, a := range tok.Attr {
		switch a.Key {
		case "rel", "target":
			continue
		case "href":
			hasHref = true
		}
		attrs = append(attrs, a)
	}
	if hasHref {
		attrs = append(attrs,
			html.Attribute{Key: "rel", Val: "noopener noreferrer"},
			html.Attribute{Key: "target", Val: "_blank"})
	}
	tok.Attr = attrs
	return tok
}

// fixImage resolves an image's source. A cid: source is replaced by the
// portal's URL for the part, or the image is dropped; data: sources passed
// the allowlist and stay; anything else is dropped.
func fixImage(tok html.Token, cidURL func(string) string) (html.Token, bool) {
	for i, a := range tok.Attr {
		if a.Key != "src" {
			continue
		}
		src := strings.TrimSpace(a.Val)
		scheme, rest, _ := strings.Cut(src, ":")
		switch strings.ToLower(scheme) {
		case "data":
			return tok, true
		case "cid":
			if cidURL == nil {
				return tok, false
			}
			id := cidFromURL(rest)
			if id == "" {
				return tok, false
			}
			u := cidURL(id)
			if !isResourceURL(u) {
				return tok, false
			}
			tok.Attr[i].Val = u
			return tok, true
		}
		return tok, false
	}
	return tok, false
}

// isResourceURL accepts what cidURL may return: a relative or http(s) URL
// without whitespace or control characters.
func isResourceURL(s string) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https":
		return true
	default:
		return false
	}
}
