package tracking

import (
	"bytes"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// rewrite replaces the http(s) links of an HTML document with tracked ones (clicks), adds
// a hidden decoy link that only machines follow, and an open pixel at the end of the body.
// Links o.Skip names, and any unsubscribe link, keep their address.
func rewrite(doc string, o Options, newLink func(kind, target string) string) (string, error) {
	z := html.NewTokenizer(strings.NewReader(doc))
	var out bytes.Buffer
	closedBody := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return "", z.Err()
			}
			if !closedBody {
				out.WriteString(extras(o, newLink))
			}
			return out.String(), nil
		case html.StartTagToken:
			tok := z.Token()
			if o.Clicks && tok.DataAtom == atom.A && rewriteHref(&tok, o, newLink) {
				out.WriteString(tok.String())
				continue
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == "body" && !closedBody {
				out.WriteString(extras(o, newLink))
				closedBody = true
			}
		}
		out.Write(z.Raw())
	}
}

func rewriteHref(tok *html.Token, o Options, newLink func(kind, target string) string) bool {
	for i, a := range tok.Attr {
		if a.Namespace != "" || a.Key != "href" {
			continue
		}
		if !trackable(a.Val, o) {
			return false
		}
		tok.Attr[i].Val = newLink("click", a.Val)
		return true
	}
	return false
}

// trackable reports whether a link may be rewritten: http(s) only, never an unsubscribe
// or portal link (their addresses must work as sent and may be checked by mailbox
// providers), nor one the caller marked.
func trackable(href string, o Options) bool {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if strings.Contains(strings.ToLower(href), "unsubscribe") {
		return false
	}
	return o.Skip == nil || !o.Skip(href)
}

// extras are the decoy link and the pixel, hidden from people and screen readers.
func extras(o Options, newLink func(kind, target string) string) string {
	var b strings.Builder
	if o.Clicks {
		b.WriteString(`<a href="` + html.EscapeString(newLink("decoy", "")) + `" style="display:none" aria-hidden="true" tabindex="-1"></a>`)
	}
	if o.Opens {
		b.WriteString(`<img src="` + html.EscapeString(newLink("open", "")) + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`)
	}
	return b.String()
}
