package view

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// xssVectors are inputs that try to run script, load a resource, submit
// data or escape the sanitizer's structure.
var xssVectors = []struct{ name, in string }{
	{"script", `<script>alert(1)</script>`},
	{"script with remote src", `<SCRIPT SRC=http://xss.example/x.js></SCRIPT>`},
	{"img onerror", `<img src=x onerror=alert(1)>`},
	{"cid img onerror", `<img src="cid:a@b" onerror="alert(1)" onload="alert(2)">`},
	{"svg script", `<svg><script>alert(1)</script></svg>`},
	{"svg onload", `<svg onload=alert(1)>`},
	{"svg animate", `<svg><animate onbegin=alert(1) attributeName=x dur=1s>`},
	{"svg use xlink", `<svg><use xlink:href="data:image/svg+xml;base64,PHN2ZyBpZD0neCcvPg==#x"/></svg>`},
	{"xlink on link", `<a xlink:href="javascript:alert(1)">x</a>`},
	{"remote img loopback", `<img src="http://127.0.0.1:9/x.png">`},
	{"remote img https", `<img src="https://tracker.example/p.gif" width=1 height=1>`},
	{"protocol-relative img", `<img src="//tracker.example/p.gif">`},
	{"srcset", `<img src="cid:a@b" srcset="http://evil.example/x.png 2x">`},
	{"picture source", `<picture><source srcset="http://evil.example/x.png"><img src="cid:a@b"></picture>`},
	{"lowsrc dynsrc", `<img dynsrc="http://evil.example/x.avi" lowsrc="http://evil.example/x.png">`},
	{"link stylesheet", `<link rel=stylesheet href="http://evil.example/x.css">`},
	{"style import", `<style>@import url(http://evil.example/x.css);</style><p>x</p>`},
	{"style attr url", `<div style="background:url(http://evil.example/x.png)">x</div>`},
	{"style attr javascript url", `<p style="background-image: url('javascript:alert(1)')">x</p>`},
	{"style attr escaped url", `<p style="color: red; background: u\72l(http://evil.example/x)">x</p>`},
	{"style attr import", `<p style="@import 'http://evil.example/x.css'; color: red">x</p>`},
	{"style binding", `<div style="color: red; -moz-binding: url(http://evil.example/x.xml#xss)">x</div>`},
	{"style behavior", `<div style="behavior: url(x.htc)">x</div>`},
	{"style expression", `<div style="width: expression(alert(1))">x</div>`},
	{"style expression with comment", `<div style="width: expr/**/ession(alert(1))">x</div>`},
	{"font-family url", `<font face="x" style="font-family: url(http://evil.example/f.woff)">x</font>`},
	{"base href", `<base href="http://evil.example/"><a href="x">x</a>`},
	{"form action", `<form action="http://evil.example/"><input name=x><button>go</button></form>`},
	{"input autofocus", `<input autofocus onfocus=alert(1)>`},
	{"input image", `<input type="image" src="http://evil.example/x.png">`},
	{"button formaction", `<button formaction="javascript:alert(1)">x</button>`},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=http://evil.example/">`},
	{"iframe", `<iframe src="http://evil.example/"></iframe>`},
	{"iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>`},
	{"object", `<object data="http://evil.example/x.swf"><param name=x value=y></object>`},
	{"object data url", `<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>`},
	{"embed", `<embed src="http://evil.example/x.swf">`},
	{"javascript link", `<a href="javascript:alert(1)">x</a>`},
	{"javascript link mixed case", `<a href="JaVaScRiPt:alert(1)">x</a>`},
	{"javascript link decimal entities", `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`},
	{"javascript link hex entities without semicolons", `<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">x</a>`},
	{"javascript link tab split", `<a href="jav&#x09;ascript:alert(1)">x</a>`},
	{"javascript link newline split", `<a href="jav&#x0A;ascript:alert(1)">x</a>`},
	{"javascript link leading control", `<a href=" &#14; javascript:alert(1)">x</a>`},
	{"javascript link named colon", `<a href="javascript&colon;alert(1)">x</a>`},
	{"vbscript link", `<a href="vbscript:msgbox(1)">x</a>`},
	{"data html link", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`},
	{"data svg img", `<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`},
	{"data html img", `<img src="data:text/html,<script>alert(1)</script>">`},
	{"math mglyph style", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`},
	{"math href", `<math href="javascript:alert(1)">x</math>`},
	{"math maction", `<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>`},
	{"video poster", `<video poster="http://evil.example/p.png" src="http://evil.example/v.mp4"></video>`},
	{"audio src", `<audio src="http://evil.example/a.mp3" autoplay></audio>`},
	{"body background", `<body background="http://evil.example/bg.png" onload="alert(1)">x</body>`},
	{"table background", `<table background="http://evil.example/bg.png"><tr><td background="http://evil.example/x">x</td></tr></table>`},
	{"template", `<template><img src=x onerror=alert(1)></template>`},
	{"noscript title", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`},
	{"noembed title", `<noembed><img title="</noembed><img src=x onerror=alert(1)>"></noembed>`},
	{"xmp title", `<xmp><p title="</xmp><img src=x onerror=alert(1)>">`},
	{"style title", `<style><img src="</style><img src=x onerror=alert(1)//">`},
	{"comment break", `<!--<img src="--><img src=x onerror=alert(1)//">`},
	{"conditional comment", `<!--[if gte IE 4]><script>alert(1)</script><![endif]-->`},
	{"cdata", `<![CDATA[<script>alert(1)</script>]]>`},
	{"isindex", `<isindex action="javascript:alert(1)" type=image>`},
	{"frameset", `<frameset><frame src="javascript:alert(1)"></frameset>`},
	{"marquee onstart", `<marquee onstart=alert(1)>x</marquee>`},
	{"details ontoggle", `<details open ontoggle=alert(1)>`},
	{"select onfocus", `<select autofocus onfocus=alert(1)><option>x</select>`},
	{"textarea onfocus", `<textarea onfocus=alert(1) autofocus>x</textarea>`},
	{"unterminated tag", `<img src="x" onerror="alert(1)"`},
	{"quote confusion", `<img """><script>alert(1)</script>">`},
	{"event on kept link", `<a href="http://ok.example/" onmouseover="alert(1)">x</a>`},
	{"event on kept cell", `<td onclick="alert(1)" style="color:red">x</td>`},
	{"applet", `<applet code="x.class" codebase="http://evil.example/"></applet>`},
	{"plaintext", `<plaintext><script>alert(1)</script>`},
}

func TestSanitizeXSSCorpus(t *testing.T) {
	if len(xssVectors) < 40 {
		t.Fatalf("corpus has %d vectors, want at least 40", len(xssVectors))
	}
	cid := func(id string) string { return "/portal/inline/" + id }
	for _, v := range xssVectors {
		t.Run(v.name, func(t *testing.T) {
			out := Sanitize(v.in, cid)
			assertInert(t, out)
			// A second pass of the allowlist must change nothing: output
			// that re-parses differently is how mutation XSS starts. (The
			// cid: rewrite is left out: it is meant to change its input.)
			p := newPolicy()
			if once := p.Sanitize(v.in); p.Sanitize(once) != once {
				t.Errorf("not stable under re-sanitizing:\n first %q\nsecond %q", once, p.Sanitize(once))
			}
			// Wrapped as the portal shows it, too.
			assertInert(t, Sanitize(Document(out), cid))
		})
	}
}

// forbidden are elements that must never appear in sanitized output.
var forbidden = map[string]bool{
	"script": true, "style": true, "link": true, "meta": true, "base": true, "form": true,
	"input": true, "button": true, "iframe": true, "object": true, "embed": true, "svg": true,
	"math": true, "frame": true, "frameset": true, "template": true, "noscript": true,
	"textarea": true, "select": true, "video": true, "audio": true, "source": true,
	"picture": true, "isindex": true, "applet": true, "param": true, "xmp": true, "plaintext": true,
}

// urlAttrs are attributes whose value browsers fetch or navigate to.
var urlAttrs = map[string]bool{
	"src": true, "href": true, "background": true, "poster": true, "srcset": true,
	"lowsrc": true, "dynsrc": true, "action": true, "formaction": true, "data": true,
	"codebase": true, "cite": true, "longdesc": true, "usemap": true, "profile": true,
}

// assertInert parses out as a browser would and walks every element and
// attribute for anything that could run or load.
func assertInert(t *testing.T, out string) {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(out), body)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			checkElement(t, n, out)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
}

func checkElement(t *testing.T, n *html.Node, out string) {
	t.Helper()
	if n.Namespace != "" || forbidden[n.Data] {
		t.Errorf("forbidden element <%s> (namespace %q) in %q", n.Data, n.Namespace, out)
	}
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		val := squash(a.Val)
		switch {
		case a.Namespace != "":
			t.Errorf("namespaced attribute %s:%s in %q", a.Namespace, a.Key, out)
		case strings.HasPrefix(key, "on"):
			t.Errorf("event handler %s in %q", a.Key, out)
		case strings.Contains(val, "javascript:") || strings.Contains(val, "vbscript:") || strings.Contains(val, "data:text"):
			t.Errorf("script URL in %s=%q", a.Key, a.Val)
		case strings.HasPrefix(val, "data:") && !strings.HasPrefix(val, "data:image/png;") &&
			!strings.HasPrefix(val, "data:image/jpeg;") && !strings.HasPrefix(val, "data:image/gif;") &&
			!strings.HasPrefix(val, "data:image/webp;"):
			t.Errorf("data URL of another type in %s=%q", a.Key, a.Val)
		case urlAttrs[key] && !(n.Data == "a" && key == "href") &&
			(strings.HasPrefix(val, "http:") || strings.HasPrefix(val, "https:") || strings.HasPrefix(val, "//")):
			t.Errorf("remote resource in <%s %s=%q>", n.Data, a.Key, a.Val)
		case key == "style" && (strings.Contains(val, "url(") || strings.Contains(val, "expression") ||
			strings.Contains(val, "@import") || strings.Contains(val, "behavior") || strings.Contains(val, "binding") ||
			strings.Contains(val, `\`)):
			t.Errorf("dangerous CSS in style=%q", a.Val)
		}
	}
}

// squash lower-cases s and removes whitespace and control characters,
// which browsers ignore inside URL schemes.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
