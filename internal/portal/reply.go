package portal

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/policy"
	"github.com/sealpost/sealpost/internal/portal/pages"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Reply limits.
const (
	maxReplyRunes = 50000
	maxReplyFiles = 10
	// replyLocal is the local part replies come from, at the original sender's domain:
	// the recipient's own address cannot be used (their domain's DMARC would fail).
	replyLocal = "secure-reply"
	// replySignature separates the recipient's words from the note Sealpost adds.
	replySignature = "\r\n\r\n-- \r\n"
)

// reply stores the recipient's reply as a new sealed message to the original sender,
// which then travels by the normal secure path (the policy requires at least verified
// TLS, whatever DLP finds), and links it to this copy's thread — in one commit.
func (s *Service) reply(q *request) error {
	sess, ok, err := s.signedIn(q)
	if !ok {
		return err
	}
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, s.cfg.MaxUploadBytes+64<<10)
	// Everything stays in memory (the body is bounded above): an upload spilled to a
	// temporary file would be PHI on disk in the clear.
	if err := q.r.ParseMultipartForm(s.cfg.MaxUploadBytes + 1<<20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.replyProblem(q, http.StatusRequestEntityTooLarge, "Your reply is too large", "Replies, attachments included, may be at most "+humanSize(s.cfg.MaxUploadBytes)+".")
		}
		return s.replyProblem(q, http.StatusBadRequest, "Your reply could not be read", "Please go back and try again.")
	}
	defer q.r.MultipartForm.RemoveAll()
	if !s.csrfOK(q, sess) {
		return s.badCSRF(q)
	}
	text := strings.TrimSpace(q.r.PostFormValue("body"))
	if text == "" {
		return s.replyProblem(q, http.StatusBadRequest, "Your reply is empty", "Please write a reply before sending.")
	}
	if utf8.RuneCountInString(text) > maxReplyRunes || !utf8.ValidString(text) {
		return s.replyProblem(q, http.StatusBadRequest, "Your reply is too long", "A reply may be at most 50,000 characters.")
	}
	files := q.r.MultipartForm.File["files"]
	var atts []message.Attachment
	for _, fh := range files {
		if fh.Filename == "" && fh.Size == 0 {
			continue // the empty file input of a form sent without attachments
		}
		if len(atts) == maxReplyFiles {
			return s.replyProblem(q, http.StatusBadRequest, "Too many attachments", "A reply may carry at most 10 files.")
		}
		a, err := readUpload(fh)
		if err != nil {
			return err
		}
		atts = append(atts, a)
	}
	m, err := s.open(q)
	if err != nil {
		return err
	}
	to, env, err := s.recipient(q.ctx, q.keys, q.copy)
	if err != nil {
		return err
	}
	dest, err := s.replyDestination(q.ctx, q.copy.TenantID, env)
	if err != nil {
		return err
	}
	if dest == "" {
		// Nothing is sent to an address that cannot receive: the reader keeps the
		// reply (the form keeps its text on Back) and is told where it cannot go.
		return s.replyProblem(q, http.StatusConflict, "Your reply was not sent", noReplyText)
	}
	d, err := replyDraft(env, dest, m.Subject, to, text, atts)
	if err != nil {
		return err
	}
	now := s.now()
	sub := &pipeline.Submission{Principal: &tenant.Principal{TenantID: q.copy.TenantID, KeyID: principal(q.copy)}, Draft: d,
		Security: policy.Flags{Require: "tls"}, Tags: []string{"portal-reply"}, TLS: q.r.TLS, ClientAddr: clientIP(q.r),
		Also: func(ctx context.Context, tx *store.Tx, id string) error {
			if err := tx.AddPortalReply(ctx, &store.PortalReply{ID: tenant.NewID("pr"), PortalID: q.copy.ID, MessageID: id, CreatedAt: now}); err != nil {
				return err
			}
			return s.record(ctx, tx, q.keys, q.copy, "portal.replied", principal(q.copy), clientIP(q.r),
				map[string]any{"reply_message_id": id, "attachments": len(atts)})
		}}
	if _, err := s.pipeline.Submit(q.ctx, sub); err != nil {
		var pe *pipeline.Error
		if !errors.As(err, &pe) {
			return err
		}
		switch {
		case pe.Status == http.StatusRequestEntityTooLarge:
			return s.replyProblem(q, pe.Status, "Your reply is too large", "Please send fewer or smaller attachments.")
		case len(pe.Fields) > 0 && strings.HasPrefix(pe.Fields[0].Field, "attachments"):
			return s.replyProblem(q, pe.Status, "An attachment could not be accepted", pe.Fields[0].Detail)
		default:
			// The tenant's policy refused it (blocked content, say): say so plainly,
			// without echoing what was found.
			return s.replyProblem(q, http.StatusUnprocessableEntity, "Your reply could not be sent", "The organisation's security settings did not accept this reply. Please contact them directly.")
		}
	}
	s.accepted()
	return q.redirect("/m?replied=1")
}

func (s *Service) replyProblem(q *request, status int, heading, detail string) error {
	return s.pages.Render(q.w, status, &pages.Problem{Page: q.page(heading), Heading: heading, Detail: detail, Back: q.prefix + "/m"})
}

func readUpload(fh *multipart.FileHeader) (message.Attachment, error) {
	f, err := fh.Open()
	if err != nil {
		return message.Attachment{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return message.Attachment{}, err
	}
	ct := fh.Header.Get("Content-Type")
	if ct == "" || strings.ContainsAny(ct, "\r\n") {
		ct = "application/octet-stream"
	}
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, fh.Filename)
	if name == "" {
		name = "attachment"
	}
	return message.Attachment{Filename: name, ContentType: ct, Content: b}, nil
}

// noReplyText tells a reader why a reply cannot be sent.
const noReplyText = "The sender's address does not accept replies, and they have not named one that does. Nothing was sent. Please contact them another way; your text is still in the form if you go back."

// replyDestination is where a reply goes: the sender's Reply-To, else the tenant's
// reply mailbox, else the sender's own address if it can receive; "" when none can.
func (s *Service) replyDestination(ctx context.Context, tenantID string, env *pipeline.Envelope) (string, error) {
	if env.ReplyTo != "" {
		return env.ReplyTo, nil
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if st.ReplyMailbox != "" {
		return st.ReplyMailbox, nil
	}
	if cannotReceive(env.From) {
		return "", nil
	}
	return env.From, nil
}

// cannotReceive recognises the local parts that by convention take no mail
// (noreply@, do-not-reply@, mailer-daemon@, …): a reply sent there is lost.
func cannotReceive(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return true
	}
	local := strings.ToLower(addr[:at])
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	local = strings.NewReplacer("-", "", "_", "", ".", "").Replace(local)
	switch local {
	case "noreply", "donotreply", "noreplies", "nobody", "mailerdaemon", "postmaster", "bounce", "bounces", "unmonitored":
		return true
	}
	return strings.HasPrefix(local, "noreply") || strings.HasPrefix(local, "donotreply")
}

// replyDraft addresses the reply to dest, threaded to the original.
func replyDraft(env *pipeline.Envelope, dest, subject, recipient, text string, atts []message.Attachment) (*message.Draft, error) {
	orig, err := message.ParseAddress(env.From)
	if err != nil {
		return nil, err
	}
	// The reply comes from our address at the sender's domain, wherever it goes.
	to := dest
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	if strings.TrimSpace(subject) == "Re:" {
		subject = "Re: your secure message"
	}
	d := &message.Draft{
		From:    message.Address{Name: recipient + " via secure portal", Addr: replyLocal + "@" + orig.Domain()},
		To:      []message.Address{{Addr: to}},
		Subject: subject,
		Text: strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n") + replySignature +
			"Sent by " + recipient + " from the secure message portal, in reply to your secure message.\r\n",
		Attachments: atts,
	}
	if env.MessageID != "" {
		d.Headers = []message.Header{{Name: "In-Reply-To", Value: "<" + env.MessageID + ">"}, {Name: "References", Value: "<" + env.MessageID + ">"}}
	}
	return d, nil
}

// replyText is what the thread shows of a reply: the recipient's words, without the
// note added for the sender.
func replyText(t string) string {
	t = strings.ReplaceAll(t, "\r\n", "\n")
	if i := strings.LastIndex(t, "\n\n-- \n"); i >= 0 {
		t = t[:i]
	}
	return t
}
