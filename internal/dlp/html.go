package dlp

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// visibleText returns the text a reader of an HTML part sees: character references
// decoded, script and style content and comments dropped, white space collapsed as a
// browser does, block elements on their own lines and table cells separated by tabs. The
// alt and title attributes are kept too, as a reader sees them on hover or without images.
// Inline elements add nothing, so "<b>123</b>-45-6789" reads as one number.
func visibleText(src string, limit int) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	b.Grow(min(len(src), limit))
	hidden := 0 // depth inside script or style
	for b.Len() <= limit {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if hidden == 0 {
				writeCollapsed(&b, z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Script || a == atom.Style {
				if tt == html.StartTagToken {
					hidden++
				}
				continue
			}
			writeBreak(&b, a)
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if hidden == 0 && (string(k) == "alt" || string(k) == "title") {
					b.WriteByte(' ')
					writeCollapsed(&b, v)
					b.WriteByte(' ')
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Script || a == atom.Style {
				hidden = max(hidden-1, 0)
				continue
			}
			writeBreak(&b, a)
		}
	}
	return b.String()
}

// writeBreak writes what an element boundary looks like on screen. Nested blocks make
// one line break, not a blank line, so a table header stays next to its rows.
func writeBreak(b *strings.Builder, a atom.Atom) {
	last := byte('\n')
	if b.Len() > 0 {
		last = b.String()[b.Len()-1]
	}
	switch a {
	case atom.Td, atom.Th:
		if last != '\n' && last != '\t' {
			b.WriteByte('\t')
		}
	case atom.Br, atom.P, atom.Div, atom.Tr, atom.Li, atom.Ul, atom.Ol, atom.Table,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Pre,
		atom.Hr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dd, atom.Dt,
		atom.Title, atom.Caption, atom.Form, atom.Address, atom.Center, atom.Body:
		if last == '\t' || last == ' ' {
			// A line that ends in a cell separator or space ends there.
			s := strings.TrimRight(b.String(), "\t ")
			if strings.HasSuffix(s, "\n") || s == "" {
				return
			}
		}
		if last != '\n' {
			b.WriteByte('\n')
		}
	}
}

// writeCollapsed writes text with each run of white space as one space.
func writeCollapsed(b *strings.Builder, text []byte) {
	space := false
	for _, c := range text {
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	if space {
		b.WriteByte(' ')
	}
}
