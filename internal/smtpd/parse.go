package smtpd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decodes the charsets mail clients use
	"github.com/emersion/go-message/mail"

	"github.com/sealpost/sealpost/internal/message"
)

// Limits on the structure of a submitted message, beside its size (SIZE): a MIME bomb
// of nested or countless parts is refused before it costs anything.
const (
	maxParts = 200
)

// draftFromMIME turns a submitted message into the draft the API would have built, so
// the pipeline sees one shape whichever face a message came through: the same
// validation, DLP, policy and MIME building (which also drops whatever headers a
// client set that we do not carry, and writes only CRLF).
func draftFromMIME(raw []byte) (*message.Draft, error) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !isUnknownCharset(err) {
		return nil, fmt.Errorf("header cannot be parsed")
	}
	defer mr.Close()
	h := mr.Header
	d := &message.Draft{}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		return nil, errors.New("the From header must hold exactly one address")
	}
	d.From = message.Address{Name: from[0].Name, Addr: from[0].Address}
	for _, f := range []struct {
		key string
		dst *[]message.Address
	}{{"To", &d.To}, {"Cc", &d.Cc}, {"Reply-To", &d.ReplyTo}} {
		list, err := h.AddressList(f.key)
		if err != nil {
			return nil, fmt.Errorf("the %s header cannot be parsed", f.key)
		}
		for _, a := range list {
			*f.dst = append(*f.dst, message.Address{Name: a.Name, Addr: a.Address})
		}
	}
	if d.Subject, err = h.Subject(); err != nil && !isUnknownCharset(err) {
		return nil, errors.New("the Subject header cannot be decoded")
	}
	if id, err := h.MessageID(); err == nil {
		d.MessageID = id
	}
	if t, err := h.Date(); err == nil {
		d.Date = t
	}
	parts := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !isUnknownCharset(err) {
			return nil, errors.New("the MIME structure cannot be parsed")
		}
		if p == nil {
			break
		}
		if parts++; parts > maxParts {
			return nil, fmt.Errorf("more than %d MIME parts", maxParts)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil && !isUnknownCharset(err) {
			return nil, errors.New("a MIME part cannot be decoded")
		}
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := ph.ContentType()
			switch {
			case ct == "text/plain" && d.Text == "":
				d.Text = string(body)
			case ct == "text/html" && d.HTML == "":
				d.HTML = string(body)
			default:
				// An inline image or another part shown in place.
				cid := strings.Trim(ph.Get("Content-Id"), "<> ")
				d.Attachments = append(d.Attachments, message.Attachment{Filename: inlineName(ct, parts), ContentType: ct,
					Content: body, Inline: true, ContentID: cid})
			}
		case *mail.AttachmentHeader:
			ct, _, _ := ph.ContentType()
			name, _ := ph.Filename()
			if name == "" {
				name = inlineName(ct, parts)
			}
			d.Attachments = append(d.Attachments, message.Attachment{Filename: name, ContentType: ct, Content: body})
		}
	}
	return d, nil
}

func inlineName(ct string, n int) string {
	ext := ".bin"
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
		ext = exts[0]
	}
	return fmt.Sprintf("part%d%s", n, ext)
}

func isUnknownCharset(err error) bool {
	return gomessage.IsUnknownCharset(err) || gomessage.IsUnknownEncoding(err)
}
