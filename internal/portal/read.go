package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/portal/pages"
	"github.com/sealpost/sealpost/internal/portal/view"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// signedIn returns the session or, when there is none, sends the recipient to sign in.
func (s *Service) signedIn(q *request) (string, bool, error) {
	sess, err := s.session(q.r, q.copy)
	if err != nil || sess != "" {
		return sess, sess != "", err
	}
	return "", false, q.redirect("")
}

// open unseals and parses the copy.
func (s *Service) open(q *request) (*view.Message, error) {
	raw, err := secureline.OpenPortalCopy(q.keys, q.copy)
	if errors.Is(err, secureline.ErrDestroyed) {
		return nil, errGone
	}
	if err != nil {
		return nil, err
	}
	return view.Parse(raw, view.Limits{})
}

func (s *Service) envelope(ctx context.Context, keys *tenant.Keys, messageID string) (*pipeline.Envelope, error) {
	m, err := s.db.Message(ctx, "", messageID)
	if err != nil {
		return nil, err
	}
	b, err := keys.Data.Open(m.Envelope, "message/"+m.ID+"/envelope")
	if err != nil {
		return nil, err
	}
	var env pipeline.Envelope
	return &env, json.Unmarshal(b, &env)
}

// message shows the message, its attachments, the replies so far and the reply form.
// Every view is an event and an audit entry.
func (s *Service) message(q *request) error {
	sess, ok, err := s.signedIn(q)
	if !ok {
		return err
	}
	m, err := s.open(q)
	if err != nil {
		return err
	}
	pg := &pages.Message{Page: q.page("Secure message"), From: m.From, To: m.To, Subject: m.Subject, Date: m.Date, ExpiresAt: q.copy.ExpiresAt,
		Text: m.Text, MaxUploadMB: int(s.cfg.MaxUploadBytes >> 20)}
	pg.CSRF = csrfToken(sess)
	if m.HTML != "" {
		pg.HTMLURL = q.prefix + "/m/body"
	}
	for _, a := range m.Attachments {
		pg.Files = append(pg.Files, pages.File{Name: a.Filename, Size: humanSize(a.Size), URL: q.prefix + "/a/" + strconv.Itoa(a.Index), Type: kindOf(a.ContentType)})
	}
	if pg.Replies, err = s.thread(q); err != nil {
		return err
	}
	env, err := s.envelope(q.ctx, q.keys, q.copy.MessageID)
	if err != nil {
		return err
	}
	if to, err := s.replyDestination(q.ctx, q.copy.TenantID, env); err != nil {
		return err
	} else if to == "" {
		pg.NoReply = noReplyText
	}
	if q.r.URL.Query().Get("replied") == "1" {
		pg.Notice = "Your reply was sent securely."
	}
	if m.Incomplete {
		pg.Error = "Part of this message is too large or too complex to show here. Please ask the sender for a complete copy."
	}
	err = s.db.Write(q.ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CountPortalView(ctx, q.copy.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, q.keys, q.copy, "portal.viewed", principal(q.copy), clientIP(q.r), map[string]any{"client": clientIP(q.r)})
	})
	if err != nil {
		return err
	}
	return s.pages.Render(q.w, http.StatusOK, pg)
}

// body serves the sanitized HTML body for the sandboxed frame, under a CSP that also
// sandboxes it should it ever be opened on its own.
func (s *Service) body(q *request) error {
	if _, ok, err := s.signedIn(q); !ok {
		return err
	}
	m, err := s.open(q)
	if err != nil {
		return err
	}
	doc := view.Document(view.Sanitize(m.HTML, func(cid string) string {
		for _, in := range m.Inline {
			if in.ContentID == cid {
				return q.prefix + "/cid/" + url.PathEscape(cid)
			}
		}
		return ""
	}))
	secureHeaders(q.w, bodyCSP)
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err = q.w.Write([]byte(doc))
	return err
}

// inlineTypes are the images a message body may show; SVG is never served (script).
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

func (s *Service) inline(q *request) error {
	if _, ok, err := s.signedIn(q); !ok {
		return err
	}
	m, err := s.open(q)
	if err != nil {
		return err
	}
	cid := q.r.PathValue("cid")
	for _, in := range m.Inline {
		if in.ContentID == cid && inlineTypes[in.ContentType] {
			secureHeaders(q.w, "default-src 'none'; sandbox")
			q.w.Header().Set("Content-Type", in.ContentType)
			_, err := q.w.Write(in.Data)
			return err
		}
	}
	http.NotFound(q.w, q.r)
	return nil
}

// download sends one attachment as a download: never rendered here, whatever its type.
func (s *Service) download(q *request) error {
	if _, ok, err := s.signedIn(q); !ok {
		return err
	}
	m, err := s.open(q)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(q.r.PathValue("n"))
	if err != nil || n < 0 || n >= len(m.Attachments) {
		http.NotFound(q.w, q.r)
		return nil
	}
	a := m.Attachments[n]
	if err := s.db.Write(q.ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.record(ctx, tx, q.keys, q.copy, "portal.downloaded", principal(q.copy), clientIP(q.r),
			map[string]any{"attachment": n, "filename": a.Filename, "size": a.Size})
	}); err != nil {
		return err
	}
	secureHeaders(q.w, "default-src 'none'; sandbox")
	h := q.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	_, err = q.w.Write(a.Data)
	return err
}

// thread lists the replies to this copy, oldest first.
func (s *Service) thread(q *request) ([]pages.Reply, error) {
	list, err := s.db.PortalReplies(q.ctx, q.copy.ID)
	if err != nil {
		return nil, err
	}
	var out []pages.Reply
	for _, r := range list {
		m, err := s.db.Message(q.ctx, q.copy.TenantID, r.MessageID)
		if err != nil {
			return nil, err
		}
		if m.Content == nil {
			continue // purged with the message
		}
		raw, err := pipeline.OpenContent(q.ctx, s.db, q.keys.Data, m)
		if err != nil {
			return nil, err
		}
		v, err := view.Parse(raw, view.Limits{})
		if err != nil {
			continue
		}
		rp := pages.Reply{At: r.CreatedAt, Text: replyText(v.Text)}
		for _, a := range v.Attachments {
			rp.Attachments = append(rp.Attachments, a.Filename)
		}
		out = append(out, rp)
	}
	return out, nil
}

func humanSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.0f KB", float64(n)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

func kindOf(ct string) string {
	switch {
	case ct == "application/pdf":
		return "PDF document"
	case strings.HasPrefix(ct, "image/"):
		return "Image"
	case ct == "text/csv":
		return "Spreadsheet (CSV)"
	case strings.HasPrefix(ct, "text/"):
		return "Text file"
	case strings.Contains(ct, "spreadsheet") || strings.Contains(ct, "excel"):
		return "Spreadsheet"
	case strings.Contains(ct, "word"):
		return "Document"
	case ct == "message/rfc822":
		return "Email message"
	}
	return "File"
}
