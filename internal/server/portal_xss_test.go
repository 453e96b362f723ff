package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/browsertest"
	"github.com/sealpost/sealpost/internal/store/storetest"
)

// xssCorpus is hostile HTML a sender's system might pass through (or an attacker
// might plant in a forwarded message). Every vector that worked would either run
// script (which here fetches the canary) or load something from the canary.
func xssCorpus(c string) []string {
	js := `fetch('` + c + `/js')`
	return []string{
		// First: vectors below may leave elements open that swallow what follows.
		`<p>An ordinary paragraph that must survive.</p>`,
		`<script>` + js + `</script>`,
		`<script src="` + c + `/script.js"></script>`,
		`<img src=x onerror="` + js + `">`,
		`<img src="` + c + `/img.png" alt="remote">`,
		`<img srcset="` + c + `/srcset.png 2x">`,
		`<picture><source srcset="` + c + `/source.png"><img src="cid:none"></picture>`,
		`<svg onload="` + js + `"><circle r="5"/></svg>`,
		`<svg><script>` + js + `</script></svg>`,
		`<svg><image href="` + c + `/svgimage.png"/><image xlink:href="` + c + `/xlink.png"/></svg>`,
		`<math><mtext><table><mglyph><style><img src=x onerror="` + js + `">`,
		`<style>@import url("` + c + `/import.css");</style>`,
		`<style>body{background:url("` + c + `/bg.png")}</style>`,
		`<link rel="stylesheet" href="` + c + `/link.css">`,
		`<div style="background-image:url(` + c + `/inline-bg.png)">styled</div>`,
		`<div style="width:expression(` + js + `)">ie</div>`,
		`<div style="behavior:url(` + c + `/behavior.htc)">htc</div>`,
		`<base href="` + c + `/base/"><img src="relative.png">`,
		`<form action="` + c + `/form"><input name="q" value="x"><button>Go</button></form>`,
		`<button formaction="` + c + `/formaction">b</button>`,
		`<meta http-equiv="refresh" content="0;url=` + c + `/refresh">`,
		`<iframe src="` + c + `/iframe"></iframe>`,
		`<iframe srcdoc="<script>` + js + `</script>"></iframe>`,
		`<object data="` + c + `/object"></object>`,
		`<embed src="` + c + `/embed">`,
		`<a href="javascript:` + js + `">click</a>`,
		`<a href="JaVaScRiPt:` + js + `">mixed case</a>`,
		`<a href="jav&#x09;ascript:` + js + `">tab split</a>`,
		`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;` + js + `">entities</a>`,
		`<a href="vbscript:msgbox(1)">vb</a>`,
		`<a href="data:text/html,<script>` + js + `</script>">data</a>`,
		`<video poster="` + c + `/poster.png"><source src="` + c + `/video.mp4"></video>`,
		`<audio src="` + c + `/audio.mp3" autoplay></audio>`,
		`<body background="` + c + `/body-bg.png">`,
		`<table background="` + c + `/table-bg.png"><tr><td>t</td></tr></table>`,
		`<input type="image" src="` + c + `/input.png">`,
		`<noscript><p title="</noscript><img src=x onerror=` + js + `>"></p></noscript>`,
		`<!--<img src="--><img src=x onerror="` + js + `">-->`,
		`<![CDATA[<img src=x onerror="` + js + `">]]>`,
		`<details open ontoggle="` + js + `">d</details>`,
		`<marquee onstart="` + js + `">m</marquee>`,
		`<template><img src=x onerror="` + js + `"></template>`,
		`<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>`,
		`<img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><script>` + js + `</script></svg>">`,
		`<isindex action="` + c + `/isindex">`,
		`<frameset><frame src="` + c + `/frame"></frameset>`,
	}
}

// TestPortalXSSCorpus renders the corpus in the portal in Chromium: no script runs,
// no dialog opens, and the canary server on loopback receives no request — in the
// framed view and when the body is opened in its own tab.
func TestPortalXSSCorpus(t *testing.T) {
	pe := newPortalEnv(t, storetest.SQLiteURL(t), nil)
	b := browsertest.Start(t)
	canary := browsertest.StartCanary(t)
	const rcpt = "xss@plain.example"
	html := strings.Join(xssCorpus(canary.URL()), "\n")
	_, link := pe.sendPortal(rcpt, portalMessage(rcpt, map[string]any{"html": html, "subject": `<script>fetch('` + canary.URL() + `/subject')</script>`}))

	// Control: the same corpus served raw does reach the canary, so silence below means
	// the portal stopped it, not that the vectors were inert.
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body>"+html+"</body></html>")
	}))
	defer raw.Close()
	b.Navigate(raw.URL)
	time.Sleep(time.Second)
	b.Navigate("about:blank")
	time.Sleep(500 * time.Millisecond) // late loads of the control page land before counting
	control := len(canary.Hits())
	if control == 0 {
		t.Fatal("the raw corpus did not reach the canary: the check below would prove nothing")
	}
	dialogs := len(b.Dialogs()) // the control's dialogs are expected; only later ones count

	b.Navigate(link)
	before := len(mailTo(pe.plain, rcpt, "access code is"))
	b.Click(`form[action$="/code"] button`)
	b.Fill("#code", pe.code(rcpt, before))
	b.Click(`form[action$="/verify"] button`)
	if !strings.HasSuffix(b.Location(), "/m") {
		t.Fatalf("not signed in: %s", b.Location())
	}
	if !strings.Contains(strings.Join(b.Frames(), " "), "/m/body") {
		t.Fatal("body frame not loaded")
	}
	time.Sleep(time.Second) // time for anything that slipped through to fire
	b.Navigate(link + "/m/body")
	time.Sleep(time.Second)
	if !strings.Contains(b.Text("body"), "An ordinary paragraph that must survive.") {
		t.Errorf("sanitizing lost ordinary content:\n%s", b.Text("body"))
	}
	if hits := canary.Hits(); len(hits) > control {
		t.Errorf("the canary was reached through the portal: %v", hits[control:])
	}
	if d := b.Dialogs(); len(d) > dialogs {
		t.Errorf("dialogs opened: %v", d[dialogs:])
	}
	for _, m := range b.ConsoleMessages() {
		if strings.Contains(m, "exception") {
			t.Logf("console: %s", m) // blocked loads are reported here; informative only
		}
	}
}
