// Package message validates outgoing messages submitted through the API and
// serialises them as Internet messages (RFC 5322) with MIME structure
// (RFC 2045–2047, RFC 2183, RFC 2231).
//
// Error texts never repeat the offending input: addresses, subjects and
// filenames can carry patient information, and errors end up in logs and in
// API responses. They say what is wrong and, through FieldError.Field, where.
package message

import (
	"math"
	"strconv"
	"time"
)

// HTTP statuses carried by FieldError, so the API layer can answer without
// re-classifying each problem. Plain integers keep net/http out of this
// package.
const (
	statusInvalid  = 400 // malformed input: syntax, forbidden characters
	statusTooLarge = 413 // a configured size or count limit is exceeded
	statusSemantic = 422 // well-formed but not acceptable as a message
)

// Header is a custom header field supplied by the API caller. It is written
// after the fields the server owns.
type Header struct {
	Name, Value string
}

// Attachment is a file carried in the message.
type Attachment struct {
	Filename    string
	ContentType string // empty means application/octet-stream
	Content     []byte
	// Inline asks for Content-Disposition: inline (RFC 2183 §2.1). With a
	// ContentID and an HTML body the part is placed in multipart/related so
	// the HTML can reference it as cid: (RFC 2387, RFC 2392).
	Inline    bool
	ContentID string // without the angle brackets
}

// Draft is an outgoing message as the API receives it.
type Draft struct {
	From                 Address
	To, Cc, Bcc, ReplyTo []Address

	Subject, Text, HTML string
	Attachments         []Attachment
	Headers             []Header // custom headers from the API

	// MessageID is the msg-id without angle brackets. Write generates one
	// (random@from-domain) when it is empty.
	MessageID string
	Date      time.Time // zero means the time of Write
}

// Limits bounds what a Draft may contain. A zero or negative field means the
// default from DefaultLimits.
type Limits struct {
	MaxRecipients       int // To, Cc and Bcc together
	MaxSubjectBytes     int
	MaxBodyBytes        int // Text and HTML together
	MaxAttachments      int
	MaxAttachmentBytes  int // per attachment, decoded
	MaxTotalBytes       int // bodies plus decoded attachments
	MaxHeaders          int // custom headers
	MaxHeaderValueBytes int // per custom header value
}

// DefaultLimits returns the limits applied when nothing else is configured.
// Attachments may reach 40 MiB and a message 50 MiB: a scanned report or a small imaging study runs to
// tens of megabytes, and the server bounds memory with its in-flight cap, not here.
func DefaultLimits() Limits {
	return Limits{
		MaxRecipients: 50,
		// RFC 5322 §2.1.1: a line must not exceed 998 characters.
		MaxSubjectBytes:     998,
		MaxBodyBytes:        10 << 20,
		MaxAttachments:      50,
		MaxAttachmentBytes:  40 << 20,
		MaxTotalBytes:       50 << 20,
		MaxHeaders:          50,
		MaxHeaderValueBytes: 998,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return Limits{
		MaxRecipients:       pick(l.MaxRecipients, d.MaxRecipients),
		MaxSubjectBytes:     pick(l.MaxSubjectBytes, d.MaxSubjectBytes),
		MaxBodyBytes:        pick(l.MaxBodyBytes, d.MaxBodyBytes),
		MaxAttachments:      pick(l.MaxAttachments, d.MaxAttachments),
		MaxAttachmentBytes:  pick(l.MaxAttachmentBytes, d.MaxAttachmentBytes),
		MaxTotalBytes:       pick(l.MaxTotalBytes, d.MaxTotalBytes),
		MaxHeaders:          pick(l.MaxHeaders, d.MaxHeaders),
		MaxHeaderValueBytes: pick(l.MaxHeaderValueBytes, d.MaxHeaderValueBytes),
	}
}

// noSizeLimits is used by Write: size policy belongs to the caller, but the
// rules that keep the output well-formed and free of injected headers must
// hold whatever limits were configured.
func noSizeLimits() Limits {
	return Limits{
		MaxRecipients:       math.MaxInt32,
		MaxSubjectBytes:     math.MaxInt32,
		MaxBodyBytes:        math.MaxInt32,
		MaxAttachments:      math.MaxInt32,
		MaxAttachmentBytes:  math.MaxInt32,
		MaxTotalBytes:       math.MaxInt32,
		MaxHeaders:          math.MaxInt32,
		MaxHeaderValueBytes: math.MaxInt32,
	}
}

// FieldError describes one problem with a Draft.
type FieldError struct {
	Field  string // JSON path, e.g. "to[2]", "headers[0].name", "subject"
	Detail string // what is wrong; never contains the submitted value
	Status int    // 400 malformed, 413 over a limit, 422 not acceptable
	// Code names a problem a caller may want to explain in its own terms (a face can
	// point to another way of sending); empty for most.
	Code string
}

// CodeTooManyRecipients marks a draft with more recipients than one message may have.
const CodeTooManyRecipients = "too_many_recipients"

func (e *FieldError) Error() string {
	return e.Field + ": " + e.Detail
}

// InvalidDraftError is returned by Write for a Draft that fails validation.
type InvalidDraftError struct {
	Errors []*FieldError
}

func (e *InvalidDraftError) Error() string {
	msg := "message: invalid draft: " + e.Errors[0].Error()
	if n := len(e.Errors); n > 1 {
		msg += " (and " + strconv.Itoa(n-1) + " more)"
	}
	return msg
}

// Unwrap exposes the individual problems to errors.As.
func (e *InvalidDraftError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}
