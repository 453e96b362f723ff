package devnet

import (
	"bytes"
	"html/template"
	"mime"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
)

// mailboxPageSize bounds the listing so a long dev session stays fast to
// render; older messages remain reachable by id.
const mailboxPageSize = 500

const mailboxHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<title>Sealpost dev mailbox</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.3rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
td.time { white-space: nowrap; color: #555; }
.plain { color: #b00; }
.empty { color: #777; }
</style>
</head>
<body>
<h1>Dev mailbox <small>({{.Count}} received)</small></h1>
{{if .Rows}}<table>
<thead><tr><th>#</th><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>TLS</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td><a href="?id={{.ID}}" title="raw message">{{.ID}}</a></td>
<td class="time">{{.At}}</td>
<td>{{.From}}</td>
<td>{{.To}}</td>
<td><a href="?view={{.ID}}">{{.Subject}}</a></td>
<td{{if eq .TLS "none"}} class="plain"{{end}}>{{.TLS}}</td>
</tr>
{{end}}</tbody>
</table>{{else}}<p class="empty">No messages yet.</p>{{end}}
</body>
</html>
`

type mailboxRow struct {
	ID                    int
	At, From, To, Subject string
	TLS                   string
}

// MailboxHandler serves an HTML list of received messages, newest first,
// the rendered view of one message at ?view=N and its raw text, with this
// server's Received line on top, at ?id=N. Everything shown comes from
// remote input, so it is rendered through html/template, HTML bodies go
// through the portal's sanitizer into a sandboxed frame, and the raw view
// is served as text/plain with sniffing disabled.
func (r *Receiver) MailboxHandler() http.Handler {
	page := template.Must(template.New("mailbox").Parse(mailboxHTML))
	one := template.Must(template.New("message").Parse(messageHTML))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		if idText := req.URL.Query().Get("id"); idText != "" {
			r.serveRaw(w, idText)
			return
		}
		if req.URL.Query().Has("view") {
			r.serveView(w, req, one)
			return
		}
		r.mu.Lock()
		msgs, count := r.msgs, r.count // stored messages are never modified
		r.mu.Unlock()
		rows := make([]mailboxRow, 0, min(len(msgs), mailboxPageSize))
		for i := len(msgs) - 1; i >= 0 && len(rows) < mailboxPageSize; i-- {
			m := msgs[i]
			rows = append(rows, mailboxRow{
				ID:      m.ID,
				At:      m.At.Format(time.DateTime),
				From:    m.From,
				To:      strings.Join(m.To, ", "),
				Subject: subjectOf(m.Data),
				TLS:     tlsVersion(m.TLS),
			})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, struct {
			Count int
			Rows  []mailboxRow
		}{count, rows})
	})
}

// serveRaw writes one stored message as plain text.
func (r *Receiver) serveRaw(w http.ResponseWriter, idText string) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		http.Error(w, "bad id", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	var data []byte
	for _, m := range r.msgs {
		if m.ID == id {
			data = m.Delivered()
			break
		}
	}
	r.mu.Unlock()
	if data == nil {
		http.Error(w, "no such message", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(data)
}

// subjectOf returns the decoded Subject header (RFC 2047 encoded words
// decoded), or "(no subject)".
func subjectOf(data []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return "(unreadable header)"
	}
	raw := msg.Header.Get("Subject")
	if raw == "" {
		return "(no subject)"
	}
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	if s, err := dec.DecodeHeader(raw); err == nil {
		return s
	}
	return raw
}
