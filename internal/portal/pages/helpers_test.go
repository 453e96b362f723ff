package pages

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// when is a fixed instant in a non-UTC zone, so tests see any place a date
// is shown without converting to UTC.
var when = time.Date(2026, time.March, 9, 16, 30, 0, 0, time.FixedZone("CET", 3600))

// renderPage renders data and parses the result; it fails the test on any
// error or a status other than want.
func renderPage(t *testing.T, data any) (string, *html.Node) {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := httptest.NewRecorder()
	if err := r.Render(rec, 200, data); err != nil {
		t.Fatalf("Render(%T): %v", data, err)
	}
	body := rec.Body.String()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse output of %T: %v", data, err)
	}
	return body, doc
}

// elements returns every element node named tag under n, in document order.
func elements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "" || n.Data == tag) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

var inline = map[string]bool{"a": true, "strong": true, "span": true, "time": true, "em": true}

// text is the visible text under n with runs of white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		// Block boundaries separate words; inline ones do not.
		if n.Type == html.ElementNode && !inline[n.Data] {
			b.WriteByte(' ')
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// bodyText is the visible text of the document's <body>.
func bodyText(doc *html.Node) string {
	bodies := elements(doc, "body")
	if len(bodies) != 1 {
		return ""
	}
	return text(bodies[0])
}

// byID finds the element with the given id, or nil.
func byID(doc *html.Node, id string) *html.Node {
	for _, n := range elements(doc, "") {
		if v, ok := attr(n, "id"); ok && v == id {
			return n
		}
	}
	return nil
}

// forms returns the forms posting to action.
func forms(doc *html.Node, action string) []*html.Node {
	var out []*html.Node
	for _, f := range elements(doc, "form") {
		if a, _ := attr(f, "action"); a == action {
			out = append(out, f)
		}
	}
	return out
}

// buttons returns the text of every button under n.
func buttons(n *html.Node) []string {
	var out []string
	for _, b := range elements(n, "button") {
		out = append(out, text(b))
	}
	return out
}
