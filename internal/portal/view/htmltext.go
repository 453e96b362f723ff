package view

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText renders an HTML body as readable plain text: paragraphs and
// line breaks kept, lists bulleted or numbered, link targets shown after
// their text, and what is not content (scripts, styles, SVG) left out.
//
// It reads tokens rather than building a tree: hostile HTML can nest
// elements deeper than a tree builder accepts, and a flat pass stays linear
// whatever the markup.
func htmlToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	t := &textWriter{}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return t.result()
		case html.TextToken:
			if t.skip == 0 {
				t.text(string(z.Text()))
			}
		case html.StartTagToken:
			t.start(z.Token(), false)
		case html.SelfClosingTagToken:
			t.start(z.Token(), true)
		case html.EndTagToken:
			t.end(z.Token())
		}
	}
}

// textWriter accumulates text, turning block boundaries into at most one
// blank line and runs of whitespace into one space.
type textWriter struct {
	b        strings.Builder
	newlines int  // line breaks owed before the next text
	space    bool // a space is owed before the next text
	pre      int  // depth of <pre> elements
	skip     int  // depth of elements whose content is not text

	lists    []int // next number of each open list; -1 for bullets
	cellSeen bool  // a cell was already written in this table row
	href     string
	linkMark int // output length where the current link began
}

func (t *textWriter) start(tok html.Token, selfClosing bool) {
	a := tok.DataAtom
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Textarea, atom.Noscript, atom.Iframe,
		atom.Noembed, atom.Noframes, atom.Svg, atom.Math, atom.Template, atom.Select:
		if !selfClosing {
			t.skip++
		}
		return
	}
	if t.skip > 0 {
		return
	}
	switch a {
	case atom.Br:
		t.lineBreak(1)
	case atom.Hr:
		t.lineBreak(2)
		t.text("----------")
		t.lineBreak(2)
	case atom.Img:
		t.text(" " + tokenAttr(tok, "alt") + " ")
	case atom.A:
		t.href, t.linkMark = strings.TrimSpace(tokenAttr(tok, "href")), t.b.Len()
	case atom.Ul:
		t.lists = append(t.lists, -1)
		t.lineBreak(2)
	case atom.Ol:
		n, err := strconv.Atoi(strings.TrimSpace(tokenAttr(tok, "start")))
		if err != nil || n < 0 {
			n = 1
		}
		t.lists = append(t.lists, n)
		t.lineBreak(2)
	case atom.Li:
		t.lineBreak(1)
		t.flush()
		t.b.WriteString(t.listMarker())
	case atom.Tr:
		t.cellSeen = false
		t.lineBreak(1)
	case atom.Td, atom.Th:
		t.space = t.space || t.cellSeen
		t.cellSeen = true
	case atom.Pre:
		t.lineBreak(2)
		t.pre++
	default:
		t.lineBreak(blockBreak(a))
	}
}

func (t *textWriter) end(tok html.Token) {
	a := tok.DataAtom
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Textarea, atom.Noscript, atom.Iframe,
		atom.Noembed, atom.Noframes, atom.Svg, atom.Math, atom.Template, atom.Select:
		t.skip = max(0, t.skip-1)
		return
	}
	if t.skip > 0 {
		return
	}
	switch a {
	case atom.A:
		t.linkTarget(t.b.String()[min(t.linkMark, t.b.Len()):])
		t.href = ""
	case atom.Ul, atom.Ol:
		if len(t.lists) > 0 {
			t.lists = t.lists[:len(t.lists)-1]
		}
		t.lineBreak(2)
	case atom.Li, atom.Tr:
		t.lineBreak(1)
	case atom.Td, atom.Th:
		t.space = true
	case atom.Pre:
		t.pre = max(0, t.pre-1)
		t.lineBreak(2)
	default:
		t.lineBreak(blockBreak(a))
	}
}

// blockBreak returns the line breaks around a block element: 2 for a
// paragraph-like one, 1 for a box, 0 for inline elements.
func blockBreak(a atom.Atom) int {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote,
		atom.Table, atom.Dl:
		return 2
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Address,
		atom.Center, atom.Dt, atom.Dd, atom.Figure, atom.Figcaption, atom.Caption, atom.Main, atom.Nav:
		return 1
	default:
		return 0
	}
}

// linkTarget appends " <url>" after a link's text unless the text already
// says where it goes. Only web and mail links are worth showing.
func (t *textWriter) linkTarget(label string) {
	href := t.href
	lower := strings.ToLower(href)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
		return
	}
	label = strings.TrimSpace(label)
	if label == href || "mailto:"+label == href {
		return
	}
	t.text(" <" + href + ">")
}

// listMarker returns "- " in a bulleted list and "N. " in a numbered one.
func (t *textWriter) listMarker() string {
	if len(t.lists) == 0 || t.lists[len(t.lists)-1] < 0 {
		return "- "
	}
	n := t.lists[len(t.lists)-1]
	t.lists[len(t.lists)-1]++
	return strconv.Itoa(n) + ". "
}

// lineBreak owes n line breaks before the next text; 0 is a no-op.
func (t *textWriter) lineBreak(n int) {
	if n == 0 {
		return
	}
	if t.b.Len() > 0 {
		t.newlines = max(t.newlines, n)
	}
	t.space = false
}

func (t *textWriter) text(s string) {
	if t.pre > 0 {
		t.flush()
		t.b.WriteString(normalizeNewlines(s))
		return
	}
	if startsWithSpace(s) {
		t.space = true
	}
	words := strings.Fields(s)
	for i, w := range words {
		t.space = t.space || i > 0
		t.flush()
		t.b.WriteString(w)
	}
	if len(words) > 0 && endsWithSpace(s) {
		t.space = true
	}
}

// flush writes the line breaks or space owed before new text.
func (t *textWriter) flush() {
	switch {
	case t.newlines > 0:
		t.b.WriteString(strings.Repeat("\n", t.newlines))
	case t.space && t.b.Len() > 0 && !strings.HasSuffix(t.b.String(), " "):
		t.b.WriteByte(' ')
	}
	t.newlines, t.space = 0, false
}

func (t *textWriter) result() string {
	lines := strings.Split(t.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func startsWithSpace(s string) bool { return s != "" && strings.TrimLeft(s, " \t\r\n\f") != s }
func endsWithSpace(s string) bool   { return s != "" && strings.TrimRight(s, " \t\r\n\f") != s }

func tokenAttr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}
