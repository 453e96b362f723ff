package devnet

import (
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/portal/view"
)

// The rendered view of one message. It parses and sanitizes with the portal's own
// view package, so the dev mailbox shows what a careful client would and is never a
// second, weaker sanitizer. The HTML body is served as its own sandboxed response
// and framed, as the portal frames it.
const messageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Subject}} — Sealpost dev mailbox</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { color: #555; }
dd { margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f8f8f8; padding: 1rem; border: 1px solid #ddd; }
iframe { width: 100%; height: 60vh; border: 1px solid #ddd; }
.plain { color: #b00; }
.note { color: #b00; }
</style>
</head>
<body>
<p><a href="?" id="back">← All messages</a> · <a href="?id={{.ID}}">Raw message</a></p>
<h1>{{.Subject}}</h1>
<dl>
<dt>From</dt><dd>{{.From}}</dd>
<dt>To</dt><dd>{{.To}}</dd>
{{if .Cc}}<dt>Cc</dt><dd>{{.Cc}}</dd>{{end}}
<dt>Date</dt><dd>{{.Date}}</dd>
<dt>Received</dt><dd{{if eq .TLS "none"}} class="plain"{{end}}>{{.At}} over {{if eq .TLS "none"}}plain SMTP (no TLS){{else}}{{.TLS}}{{end}}</dd>
</dl>
{{if .Incomplete}}<p class="note">Part of this message was left out: it exceeds the viewer's limits.</p>{{end}}
{{if .HasHTML}}<h2>HTML body</h2>
<iframe title="HTML body" sandbox="allow-popups allow-popups-to-escape-sandbox" src="?view={{.ID}}&amp;part=html"></iframe>{{end}}
{{if .Text}}<h2>Text body</h2>
<pre>{{range .Text}}{{if .URL}}<a href="{{.URL}}" target="_blank" rel="noopener noreferrer">{{.URL}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>{{end}}
{{if .Attachments}}<h2>Attachments</h2>
<ul>{{range .Attachments}}<li>{{.Filename}} ({{.ContentType}}, {{.Size}} bytes)</li>{{end}}</ul>{{end}}
</body>
</html>
`

// bodyCSP confines the framed HTML body: nothing loads or runs, links open
// outside the sandbox.
const bodyCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox allow-popups allow-popups-to-escape-sandbox"

// textLink finds http(s) URLs in a text body, so portal links can be followed.
var textLink = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)\]]`)

type textSegment struct{ Text, URL string }

type messagePage struct {
	ID                          int
	Subject, From, To, Cc, Date string
	At, TLS                     string
	HasHTML, Incomplete         bool
	Text                        []textSegment
	Attachments                 []view.Attachment
}

// serveView writes the rendered view of one message, or with part=html its
// sanitized HTML body for the frame.
func (r *Receiver) serveView(w http.ResponseWriter, req *http.Request, page *template.Template) {
	id, err := strconv.Atoi(req.URL.Query().Get("view"))
	if err != nil {
		http.Error(w, "bad id", http.StatusBadRequest)
		return
	}
	m, ok := r.message(id)
	if !ok {
		http.Error(w, "no such message", http.StatusNotFound)
		return
	}
	v, err := view.Parse(m.Data, view.Limits{})
	if err != nil {
		http.Error(w, "this message cannot be shown; open the raw message instead", http.StatusUnprocessableEntity)
		return
	}
	if req.URL.Query().Get("part") == "html" {
		w.Header().Set("Content-Security-Policy", bodyCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// Inline images would need their own route; the dev view leaves them out.
		_, _ = w.Write([]byte(view.Document(view.Sanitize(v.HTML, func(string) string { return "" }))))
		return
	}
	p := messagePage{ID: m.ID, Subject: orNone(v.Subject, "(no subject)"), From: v.From, To: v.To, Cc: v.Cc,
		At: m.At.Format(time.DateTime), TLS: tlsVersion(m.TLS), HasHTML: v.HTML != "", Incomplete: v.Incomplete,
		Text: linkify(v.Text), Attachments: v.Attachments}
	if !v.Date.IsZero() {
		p.Date = v.Date.Format(time.RFC1123Z)
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, p)
}

// linkify splits text into plain runs and http(s) URLs.
func linkify(text string) []textSegment {
	var out []textSegment
	last := 0
	for _, loc := range textLink.FindAllStringIndex(text, -1) {
		if loc[0] > last {
			out = append(out, textSegment{Text: text[last:loc[0]]})
		}
		out = append(out, textSegment{URL: text[loc[0]:loc[1]]})
		last = loc[1]
	}
	if last < len(text) {
		out = append(out, textSegment{Text: text[last:]})
	}
	return out
}

// message returns the stored message with id.
func (r *Receiver) message(id int) (Received, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Received{}, false
}

func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}
