package message

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxHeaderName keeps "Name: " plus some value on one recommended 78
// character line (RFC 5322 §2.1.1); RFC 5322 itself sets no limit.
const maxHeaderName = 76

type validator struct {
	errs []*FieldError
}

func (v *validator) add(field string, status int, detail string) {
	v.errs = append(v.errs, &FieldError{Field: field, Detail: detail, Status: status})
}

// Validate reports every problem with the draft, not just the first, so an
// API client can fix them in one round trip. It returns nil when the draft
// can be sent.
func (d *Draft) Validate(l Limits) []*FieldError {
	l = l.withDefaults()
	v := &validator{}
	d.checkAddresses(v, l)
	if d.Subject != "" {
		if len(d.Subject) > l.MaxSubjectBytes {
			v.add("subject", statusTooLarge, fmt.Sprintf("is longer than %d bytes", l.MaxSubjectBytes))
		}
		if _, det := canonicalText(d.Subject); det != "" {
			v.add("subject", statusInvalid, det)
		}
	}
	d.checkBodies(v, l)
	d.checkAttachments(v, l)
	d.checkHeaders(v, l)
	if d.MessageID != "" {
		if det := checkMessageID(d.MessageID); det != "" {
			v.add("message_id", statusInvalid, det)
		}
	}
	return v.errs
}

func (d *Draft) checkAddresses(v *validator, l Limits) {
	if d.From.Addr == "" && d.From.Name == "" {
		v.add("from", statusSemantic, "is required")
	} else {
		checkAddress(v, "from", d.From)
	}
	lists := []struct {
		field string
		addrs []Address
	}{{"to", d.To}, {"cc", d.Cc}, {"bcc", d.Bcc}, {"reply_to", d.ReplyTo}}
	for _, list := range lists {
		for i, a := range list.addrs {
			checkAddress(v, fmt.Sprintf("%s[%d]", list.field, i), a)
		}
	}
	n := len(d.To) + len(d.Cc) + len(d.Bcc)
	switch {
	case n == 0:
		v.add("to", statusSemantic, "at least one recipient in to, cc or bcc is required")
	case n > l.MaxRecipients:
		// 422, not 413: the request is not too large, it asks for what one message
		// cannot do; the caller can send several messages instead.
		v.errs = append(v.errs, &FieldError{Field: "to", Status: statusSemantic, Code: CodeTooManyRecipients,
			Detail: fmt.Sprintf("has %d recipients in to, cc and bcc; one message may have at most %d", n, l.MaxRecipients)})
	}
	if len(d.ReplyTo) > l.MaxRecipients {
		v.add("reply_to", statusTooLarge, fmt.Sprintf("has more than %d addresses", l.MaxRecipients))
	}
}

// checkAddress validates an Address built by the caller rather than by
// ParseAddress, so both parts are checked again.
func checkAddress(v *validator, field string, a Address) {
	if _, det := normalizeAddrSpec(a.Addr); det != "" {
		v.add(field, statusInvalid, det)
	}
	if a.Name == "" {
		return
	}
	name, det := canonicalText(a.Name)
	switch {
	case det != "":
		v.add(field, statusInvalid, "display name "+det)
	case len(name) > maxDisplayName:
		v.add(field, statusInvalid, "display name is longer than 256 bytes")
	}
}

func (d *Draft) checkBodies(v *validator, l Limits) {
	for _, b := range []struct{ field, body string }{{"text", d.Text}, {"html", d.HTML}} {
		// NUL is not allowed in MIME text (RFC 2045 §2.7, §2.8).
		if strings.IndexByte(b.body, 0) >= 0 {
			v.add(b.field, statusInvalid, "must not contain NUL characters")
		}
		if !utf8.ValidString(b.body) {
			v.add(b.field, statusInvalid, "must be valid UTF-8")
		}
	}
	if d.Text == "" && d.HTML == "" && len(d.Attachments) == 0 {
		v.add("text", statusSemantic, "a text or HTML body, or an attachment, is required")
	}
	if len(d.Text)+len(d.HTML) > l.MaxBodyBytes {
		v.add(d.bodyField(), statusTooLarge, fmt.Sprintf("text and HTML together are longer than %d bytes", l.MaxBodyBytes))
	}
}

func (d *Draft) bodyField() string {
	if d.HTML != "" {
		return "html"
	}
	return "text"
}

func (d *Draft) checkAttachments(v *validator, l Limits) {
	if len(d.Attachments) > l.MaxAttachments {
		v.add("attachments", statusTooLarge, fmt.Sprintf("has more than %d attachments", l.MaxAttachments))
	}
	total := len(d.Text) + len(d.HTML)
	cids := make(map[string]int)
	for i, a := range d.Attachments {
		base := fmt.Sprintf("attachments[%d]", i)
		switch {
		case a.Filename != "":
			if det := checkFilename(a.Filename); det != "" {
				v.add(base+".filename", statusInvalid, det)
			}
		case !a.Inline:
			v.add(base+".filename", statusSemantic, "is required for an attachment that is not inline")
		}
		if a.ContentType != "" {
			if status, det := checkContentType(a.ContentType, l); det != "" {
				v.add(base+".content_type", status, det)
			}
		}
		if len(a.Content) > l.MaxAttachmentBytes {
			v.add(base+".content", statusTooLarge, fmt.Sprintf("is larger than %d bytes", l.MaxAttachmentBytes))
		}
		if a.ContentID != "" {
			if det := checkContentID(a.ContentID); det != "" {
				v.add(base+".content_id", statusInvalid, det)
			} else if j, dup := cids[a.ContentID]; dup {
				v.add(base+".content_id", statusSemantic, fmt.Sprintf("repeats the content id of attachments[%d]", j))
			} else {
				cids[a.ContentID] = i
			}
		}
		total += len(a.Content)
	}
	if total > l.MaxTotalBytes {
		field := "attachments"
		if len(d.Attachments) == 0 {
			field = d.bodyField()
		}
		v.add(field, statusTooLarge, fmt.Sprintf("bodies and attachments together are larger than %d bytes", l.MaxTotalBytes))
	}
}

func (d *Draft) checkHeaders(v *validator, l Limits) {
	if len(d.Headers) > l.MaxHeaders {
		v.add("headers", statusTooLarge, fmt.Sprintf("has more than %d headers", l.MaxHeaders))
	}
	for i, h := range d.Headers {
		base := fmt.Sprintf("headers[%d]", i)
		if status, det := checkHeaderName(h.Name); det != "" {
			v.add(base+".name", status, det)
		}
		if len(h.Value) > l.MaxHeaderValueBytes {
			v.add(base+".value", statusTooLarge, fmt.Sprintf("is longer than %d bytes", l.MaxHeaderValueBytes))
		}
		value, det := canonicalText(h.Value)
		if det != "" {
			v.add(base+".value", statusInvalid, det)
			continue
		}
		// Plain ASCII values are written unencoded, since the field may be
		// structured; folding needs whitespace to break at.
		if isASCII(value) && len(h.Name) <= maxHeaderName && longestRun(value)+len(h.Name)+2 > 998 {
			v.add(base+".value", statusInvalid, "has too long a run without whitespace to fold into 998-character lines")
		}
	}
}

// checkHeaderName applies RFC 5322 §3.6.8 (field-name is 1*ftext) and keeps
// callers off the fields the server writes itself.
func checkHeaderName(name string) (int, string) {
	if name == "" {
		return statusInvalid, "is required"
	}
	if len(name) > maxHeaderName {
		return statusInvalid, "is longer than 76 bytes"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return statusInvalid, "must be printable ASCII without spaces or ':'"
		}
	}
	if isReservedHeader(name) {
		return statusSemantic, "names a header the server sets itself"
	}
	return 0, ""
}

// isReservedHeader lists the fields Write owns (message structure, origin
// and trace fields) plus those only relays may add.
func isReservedHeader(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "content-") {
		return true
	}
	switch n {
	case "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
		"mime-version", "received", "dkim-signature", "return-path", "sender":
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
