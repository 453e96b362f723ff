// Package view turns a stored Internet message into what the secure web
// portal can show a recipient: decoded headers, a plain text body, the HTML
// body made safe for a sandboxed iframe, attachments with display-safe file
// names, and the inline images the HTML refers to by Content-ID.
//
// Stored messages come from outside: senders on other systems build them,
// and some are broken or hostile. Parsing is therefore best effort and
// bounded by Limits, and HTML is never shown without going through Sanitize.
// Errors never quote message content, since it may be health information.
package view

import (
	"errors"
	"time"
)

// Limits bound parsing work. A zero or negative field means the default.
type Limits struct {
	MaxParts     int   // default 100
	MaxDepth     int   // nesting of multiparts, default 10
	MaxPartBytes int64 // decoded bytes per part, default 40 MiB
}

const (
	defaultMaxParts     = 100
	defaultMaxDepth     = 10
	defaultMaxPartBytes = 40 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxParts <= 0 {
		l.MaxParts = defaultMaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxPartBytes <= 0 {
		l.MaxPartBytes = defaultMaxPartBytes
	}
	return l
}

// Attachment is a part offered for download.
type Attachment struct {
	Index int // 0-based, stable order of appearance among attachments
	// Filename is safe for display and for a Content-Disposition header: a
	// bare name without path, control characters or bidirectional
	// overrides, at most 200 runes, never empty.
	Filename    string
	ContentType string // lower-case media type without parameters
	Size        int64
	Data        []byte
}

// Inline is an image part the HTML body refers to by Content-ID (RFC 2392).
type Inline struct {
	ContentID   string // without angle brackets
	ContentType string
	Data        []byte
}

// Message is a parsed message ready for display.
type Message struct {
	From, To, Cc, Subject string    // decoded header values, plain text
	Date                  time.Time // zero if absent or bad
	MessageID             string    // without angle brackets
	// Text is the text/plain body with LF line endings, or a text
	// rendering of the HTML body when there is no text/plain body.
	Text string
	// HTML is the text/html body as sent. It is NOT safe to render: pass it
	// to Sanitize.
	HTML string
	// Attachments holds every part that is neither a body nor an inline
	// image the HTML refers to; message/rfc822 parts appear as .eml files.
	Attachments []Attachment
	Inline      []Inline
	// Incomplete says a limit left something out (a part too large, too many parts,
	// nesting too deep) or cut a body short: the reader must be told.
	Incomplete bool
}

// errNothingReadable is returned when a message yields neither headers nor
// content.
var errNothingReadable = errors.New("view: message has no readable headers or content")

// usable reports whether m holds anything worth showing.
func (m *Message) usable() bool {
	return m.From != "" || m.To != "" || m.Cc != "" || m.Subject != "" ||
		!m.Date.IsZero() || m.MessageID != "" || m.Text != "" || m.HTML != "" ||
		len(m.Attachments) > 0 || len(m.Inline) > 0
}
