package view

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"inline spacing", "foo <b>bar</b> baz<i>qux</i>", "foo bar bazqux"},
		{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"},
		{"divs and breaks", "<div>a</div><div>b<br>c</div>", "a\nb\nc"},
		{"pre keeps layout", "<p>x</p><pre>  a\n    b</pre>", "x\n\n  a\n    b"},
		{"table cells", "<table><tr><td>k</td><td>v</td></tr><tr><td>k2</td><td>v2</td></tr></table>", "k v\nk2 v2"},
		{"image alt", `<p>logo: <img src="cid:x" alt="Clinic"></p>`, "logo: Clinic"},
		{"link same as text", `<a href="https://a.example/">https://a.example/</a>`, "https://a.example/"},
		{"javascript link not shown", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"hidden content", "<style>p{}</style><script>x()</script><template>t</template><noscript>n</noscript>shown", "shown"},
		{"entities", "a &amp; b &lt;c&gt; &eacute;", "a & b <c> é"},
		{"horizontal rule", "a<hr>b", "a\n\n----------\n\nb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := htmlToText(c.in); got != c.want {
				t.Errorf("htmlToText(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestHTMLToTextDeepNesting(t *testing.T) {
	// Deep enough to matter for a recursive walk, and many list items to
	// catch quadratic numbering.
	in := strings.Repeat("<div>", 50000) + "bottom" + "<ol>" + strings.Repeat("<li>i", 20000) + "</ol>"
	got := htmlToText(in)
	if !strings.HasPrefix(got, "bottom") || !strings.HasSuffix(got, "20000. i") {
		t.Errorf("unexpected rendering: %q ... %q", got[:min(len(got), 40)], got[max(0, len(got)-40):])
	}
}
