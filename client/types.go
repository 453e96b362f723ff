package client

import (
	"encoding/json"
	"fmt"
	"time"
)

// Message is one message to send. Either Text and/or HTML, or a TemplateID with
// TemplateData, gives the content.
type Message struct {
	From         string            `json:"from"`
	To           []string          `json:"to,omitempty"`
	Cc           []string          `json:"cc,omitempty"`
	Bcc          []string          `json:"bcc,omitempty"`
	ReplyTo      []string          `json:"reply_to,omitempty"`
	Subject      string            `json:"subject,omitempty"`
	Text         string            `json:"text,omitempty"`
	HTML         string            `json:"html,omitempty"`
	Attachments  []Attachment      `json:"attachments,omitempty"`
	Headers      []Header          `json:"headers,omitempty"`
	TemplateID   string            `json:"template_id,omitempty"`
	TemplateData map[string]any    `json:"template_data,omitempty"`
	Tags         []string          `json:"tags,omitempty"`
	Campaign     string            `json:"campaign,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Security     *Security         `json:"security,omitempty"`
	Portal       *PortalOptions    `json:"portal,omitempty"`
}

// Security is what the sender demands of this message beyond the account's policy.
type Security struct {
	Require string `json:"require,omitempty"` // "encrypted" (pgp, smime or portal) or "tls"
	Force   string `json:"force,omitempty"`   // one method: tls, pgp, smime, portal, none
}

// PortalOptions apply to recipients who receive the message through the secure portal.
type PortalOptions struct {
	ExpiresIn  string `json:"expires_in,omitempty"` // e.g. "72h"; default the account's
	Passphrase string `json:"passphrase,omitempty"` // shared out of band; default an emailed code
}

// PortalCopy is one recipient's copy in the portal.
type PortalCopy struct {
	ID          string     `json:"id"`
	RecipientID string     `json:"recipient_id"`
	Email       string     `json:"email"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	State       string     `json:"state"`  // readable, expired or revoked
	Access      string     `json:"access"` // code or passphrase
	Views       int        `json:"views"`
	LastViewed  *time.Time `json:"last_viewed_at,omitempty"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	Replies     int        `json:"replies"`
}

// Revoked is what revoking did for one recipient: revoked, cancelled,
// already_revoked, expired, or delivered (sent by TLS or encryption; it cannot be
// withdrawn).
type Revoked struct {
	RecipientID string `json:"recipient_id"`
	Email       string `json:"email"`
	Outcome     string `json:"outcome"`
}

// Attachment is one attached file. Content is sent as standard base64; with
// SendFiles, Part names the File holding the content instead.
type Attachment struct {
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Content     []byte `json:"content,omitempty"`
	ContentID   string `json:"content_id,omitempty"` // set to make the attachment inline
	Part        string `json:"part,omitempty"`
}

// Header is one custom message header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SendResult is the answer to an accepted message.
type SendResult struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Recipients []SentRecipient `json:"recipients"`
}

// SentRecipient is one recipient of an accepted message.
type SentRecipient struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Type   string `json:"type"` // "to", "cc" or "bcc"
	Status string `json:"status"`
}

// BatchResult is one message's outcome in a batch: Result when Status is 202,
// Error otherwise.
type BatchResult struct {
	Index  int         `json:"index"`
	Status int         `json:"status"`
	Result *SendResult `json:"result,omitempty"`
	Error  *Error      `json:"error,omitempty"`
}

// MessageStatus is a stored message and each recipient's delivery status.
type MessageStatus struct {
	ID         string            `json:"id"`
	CreatedAt  time.Time         `json:"created_at"`
	From       string            `json:"from"`
	Subject    string            `json:"subject"`
	Tags       []string          `json:"tags"`
	Campaign   string            `json:"campaign,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	Sandbox    bool              `json:"sandbox"`
	Size       int               `json:"size"`
	Recipients []RecipientStatus `json:"recipients"`
}

// RecipientStatus is one recipient's delivery status: queued, deferred, delivered,
// bounced or expired.
type RecipientStatus struct {
	ID        string          `json:"id"`
	Email     string          `json:"email"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	UpdatedAt time.Time       `json:"updated_at"`
	Detail    json.RawMessage `json:"detail,omitempty"`
}

// EventQuery filters ListEvents. Zero fields do not filter.
type EventQuery struct {
	Message   string    // message id
	Recipient string    // recipient address
	Types     []string  // accepted, queued, deferred, delivered, bounced, expired
	Since     time.Time // at or after
	Until     time.Time // before
	Cursor    string    // EventPage.NextCursor of an earlier page
	Limit     int       // 1-1000; the server's default is 100
}

// EventPage is one page of events, oldest first.
type EventPage struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
	// HasMore is true when more events follow: pass NextCursor as Cursor to read them.
	HasMore bool `json:"has_more"`
}

// Event is one delivery event.
type Event struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	At          time.Time       `json:"at"`
	MessageID   string          `json:"message_id"`
	RecipientID string          `json:"recipient_id,omitempty"`
	Sandbox     bool            `json:"sandbox,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// TemplateInput is the content of a template to create or replace.
type TemplateInput struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// Template is a stored template.
type Template struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text,omitempty"`
	HTML      string    `json:"html,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TemplatePage is one page of templates; NextCursor is empty on the last page.
type TemplatePage struct {
	Templates  []Template `json:"templates"`
	NextCursor string     `json:"next_cursor,omitempty"`
	HasMore    bool       `json:"has_more"`
}

// Error is a refusal from the API (an RFC 9457 problem detail) or any other non-2xx
// answer.
type Error struct {
	Status    int          `json:"status"`
	Title     string       `json:"title"`
	Detail    string       `json:"detail,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Fields    []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid request field by its JSON path, such as "to[0]".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("sealpost: %d %s", e.Status, e.Title)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}
