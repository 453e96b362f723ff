package view

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// inlineURL is the cidURL of the tests: one known part, the rest dropped.
func inlineURL(id string) string {
	if id == "logo@clinic.example" {
		return "/portal/m/42/inline/1"
	}
	return ""
}

const tinyPNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

func TestSanitizeKeeps(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"formatting",
			`<p>a <b>b</b> <i>i</i> <u>u</u> <strong>s</strong> <em>e</em><br>next</p>`,
			`<p>a <b>b</b> <i>i</i> <u>u</u> <strong>s</strong> <em>e</em><br>next</p>`},
		{"headings and blocks",
			`<h1>1</h1><h6>6</h6><blockquote>q</blockquote><pre>  p</pre><code>c</code><hr><span>s</span><div>d</div>`,
			`<h1>1</h1><h6>6</h6><blockquote>q</blockquote><pre>  p</pre><code>c</code><hr><span>s</span><div>d</div>`},
		{"lists",
			`<ul><li>a</li></ul><ol start="3" type="a"><li>b</li></ol>`,
			`<ul><li>a</li></ul><ol start="3" type="a"><li>b</li></ol>`},
		{"tables",
			`<table border="1" cellpadding="2" width="100%"><thead><tr><th colspan="2" align="left">h</th></tr></thead>` +
				`<tbody><tr><td rowspan="2" valign="top" bgcolor="#eeeeee">a</td><td align="right">b</td></tr></tbody></table>`,
			`<table border="1" cellpadding="2" width="100%"><thead><tr><th colspan="2" align="left">h</th></tr></thead>` +
				`<tbody><tr><td rowspan="2" valign="top" bgcolor="#eeeeee">a</td><td align="right">b</td></tr></tbody></table>`},
		{"font", `<font color="#336699" face="Arial, sans-serif" size="2">f</font>`,
			`<font color="#336699" face="Arial, sans-serif" size="2">f</font>`},
		{"links",
			`<a href="https://clinic.example/a?b=1&amp;c=2" target="_self" rel="opener">web</a> <a href="mailto:desk@clinic.example">mail</a>`,
			`<a href="https://clinic.example/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">web</a> ` +
				`<a href="mailto:desk@clinic.example" rel="noopener noreferrer" target="_blank">mail</a>`},
		{"relative link loses its target", `<a href="/portal/settings">x</a>`, `x`},
		{"cid rewritten", `<img src="cid:logo%40clinic.example" alt="Clinic logo" width="120">`,
			`<img src="/portal/m/42/inline/1" alt="Clinic logo" width="120">`},
		{"cid case of scheme", `<img src="CID:logo@clinic.example">`, `<img src="/portal/m/42/inline/1">`},
		{"unknown cid dropped", `<p>x<img src="cid:other@clinic.example" alt="o"></p>`, `<p>x</p>`},
		{"data png kept", `<img src="` + tinyPNG + `">`, `<img src="` + tinyPNG + `">`},
		{"data png with bad base64 dropped", `<img src="data:image/png;base64,!!!">`, ``},
		{"safe styles kept, others dropped",
			`<p style="color: #333; font-size: 14px; font-family: 'Segoe UI', Arial; text-align: center; margin: 0 auto; ` +
				`border: 1px solid rgb(0, 0, 0); background-color: hsl(0 0% 95%); position: absolute; display: none">s</p>`,
			`<p style="color: #333; font-size: 14px; font-family: &#39;Segoe UI&#39;, Arial; text-align: center; margin: 0 auto; ` +
				`border: 1px solid rgb(0, 0, 0); background-color: hsl(0 0% 95%)">s</p>`},
		{"text escaped", `a < b & "c"`, `a &lt; b &amp; &#34;c&#34;`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Sanitize(c.in, inlineURL)
			if got != c.want {
				t.Errorf("Sanitize(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
			assertInert(t, got)
		})
	}
}

func TestSanitizeCIDCallback(t *testing.T) {
	var seen []string
	out := Sanitize(`<img src="cid:a%20b@x"><img src="cid:%3Cc@x%3E"><img src="cid:">`, func(id string) string {
		seen = append(seen, id)
		return "/i/" + strings.ReplaceAll(id, " ", "%20")
	})
	if got := strings.Join(seen, "|"); got != "a b@x|c@x" {
		t.Errorf("cidURL called with %q", got)
	}
	if out != `<img src="/i/a%20b@x"><img src="/i/c@x">` {
		t.Errorf("output %q", out)
	}

	if out := Sanitize(`<img src="cid:logo@clinic.example">`, nil); out != "" {
		t.Errorf("nil cidURL kept %q", out)
	}
	for _, bad := range []string{"javascript:alert(1)", "data:text/html,x", "/a b", "\x00/x"} {
		out := Sanitize(`<img src="cid:x@y">`, func(string) string { return bad })
		if out != "" {
			t.Errorf("cidURL result %q was used: %q", bad, out)
		}
	}
	if out := Sanitize(`<img src="cid:x@y">`, func(string) string { return "https://media.example/x" }); out != `<img src="https://media.example/x">` {
		t.Errorf("absolute cidURL result not used: %q", out)
	}
}

func TestDocument(t *testing.T) {
	fragment := Sanitize(`<p>Hello <b>there</b></p><img src="cid:logo@clinic.example">`, inlineURL)
	doc := Document(fragment)
	if !strings.HasPrefix(doc, "<!doctype html>") {
		t.Errorf("no doctype: %.40q", doc)
	}
	if !strings.Contains(doc, fragment) {
		t.Error("fragment missing from document")
	}
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("document does not parse: %v", err)
	}
	var lang, charset, style, bodyHTML string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				lang = attrOf(n, "lang")
			case "meta":
				charset += attrOf(n, "charset")
			case "style":
				style = n.FirstChild.Data
			case "body":
				var b strings.Builder
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if err := html.Render(&b, c); err != nil {
						t.Fatal(err)
					}
				}
				bodyHTML = b.String()
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if lang != "en" || charset != "utf-8" {
		t.Errorf("lang %q, charset %q", lang, charset)
	}
	for _, want := range []string{"font-family:system-ui", "line-height:1.5", "max-width:100%", "word-wrap:break-word"} {
		if !strings.Contains(style, want) {
			t.Errorf("base style lacks %q", want)
		}
	}
	if bodyHTML != `<p>Hello <b>there</b></p><img src="/portal/m/42/inline/1"/>` {
		t.Errorf("body = %q", bodyHTML)
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
