// Package client is a Go client for the Sealpost REST API (/v1). It uses only the
// standard library.
//
//	c := client.New("https://sealpost.example.com", apiKey)
//	res, err := c.Send(ctx, &client.Message{From: "a@x.example", To: []string{"b@y.example"}, Subject: "Hi", Text: "Hello"},
//		client.WithIdempotencyKey("order-42"))
//
// Refusals come back as *Error, carrying the HTTP status and the invalid fields.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one Sealpost server with one API key. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	hc   *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc instead of
// http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// New returns a client for the server at baseURL (such as "https://sealpost.example.com")
// authenticating with apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// SendOption configures Send and SendBatch.
type SendOption func(*sendOptions)

type sendOptions struct {
	idempotencyKey string
}

// WithIdempotencyKey makes a retried send safe: the server answers a repeated key
// with the first result instead of sending again. For a batch, message i uses key#i.
func WithIdempotencyKey(key string) SendOption {
	return func(o *sendOptions) { o.idempotencyKey = key }
}

func sendHeaders(opts []SendOption) http.Header {
	var o sendOptions
	for _, f := range opts {
		f(&o)
	}
	h := http.Header{}
	if o.idempotencyKey != "" {
		h.Set("Idempotency-Key", o.idempotencyKey)
	}
	return h
}

// Send submits one message. On success the message is stored and queued; delivery
// happens later (see GetMessage and ListEvents).
func (c *Client) Send(ctx context.Context, m *Message, opts ...SendOption) (*SendResult, error) {
	var out SendResult
	if err := c.do(ctx, http.MethodPost, "/v1/messages", m, sendHeaders(opts), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SendBatch submits up to 500 messages. Each is accepted or refused on its own: the
// error is only for the batch as a whole, and each BatchResult says how its message
// fared, in the order given.
func (c *Client) SendBatch(ctx context.Context, msgs []*Message, opts ...SendOption) ([]BatchResult, error) {
	var out struct {
		Results []BatchResult `json:"results"`
	}
	body := struct {
		Messages []*Message `json:"messages"`
	}{msgs}
	if err := c.do(ctx, http.MethodPost, "/v1/messages/batch", body, sendHeaders(opts), &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// GetMessage returns a message and each recipient's delivery status.
func (c *Client) GetMessage(ctx context.Context, id string) (*MessageStatus, error) {
	var out MessageStatus
	if err := c.do(ctx, http.MethodGet, "/v1/messages/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Revoke withdraws a message from one recipient (an address) or, with recipient "",
// from all: portal copies become unreadable and deliveries not yet made are cancelled.
func (c *Client) Revoke(ctx context.Context, messageID, recipient string) ([]Revoked, error) {
	var out struct {
		Recipients []Revoked `json:"recipients"`
	}
	in := map[string]string{}
	if recipient != "" {
		in["recipient"] = recipient
	}
	if err := c.do(ctx, http.MethodPost, "/v1/messages/"+url.PathEscape(messageID)+"/revoke", in, nil, &out); err != nil {
		return nil, err
	}
	return out.Recipients, nil
}

// PortalCopies lists a message's portal copies.
func (c *Client) PortalCopies(ctx context.Context, messageID string) ([]PortalCopy, error) {
	var out struct {
		Copies []PortalCopy `json:"copies"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/messages/"+url.PathEscape(messageID)+"/portal", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Copies, nil
}

// SetPortalExpiry moves when a message's readable portal copies expire (one
// recipient's, or all with recipient ""), within the account's bounds.
func (c *Client) SetPortalExpiry(ctx context.Context, messageID, recipient string, expiresAt time.Time) ([]PortalCopy, error) {
	in := map[string]any{"expires_at": expiresAt}
	if recipient != "" {
		in["recipient"] = recipient
	}
	var out struct {
		Copies []PortalCopy `json:"copies"`
	}
	if err := c.do(ctx, http.MethodPatch, "/v1/messages/"+url.PathEscape(messageID)+"/portal", in, nil, &out); err != nil {
		return nil, err
	}
	return out.Copies, nil
}

// ListEvents returns one page of delivery events matching q, oldest first. Pass the
// page's NextCursor as q.Cursor to read on.
func (c *Client) ListEvents(ctx context.Context, q EventQuery) (*EventPage, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("message", q.Message)
	set("recipient", q.Recipient)
	set("type", strings.Join(q.Types, ","))
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339))
	}
	set("cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out EventPage
	if err := c.do(ctx, http.MethodGet, withQuery("/v1/events", v), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateTemplate stores a new template.
func (c *Client) CreateTemplate(ctx context.Context, t TemplateInput) (*Template, error) {
	var out Template
	if err := c.do(ctx, http.MethodPost, "/v1/templates", t, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetTemplate returns a template.
func (c *Client) GetTemplate(ctx context.Context, id string) (*Template, error) {
	var out Template
	if err := c.do(ctx, http.MethodGet, "/v1/templates/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateTemplate replaces a template's name and content.
func (c *Client) UpdateTemplate(ctx context.Context, id string, t TemplateInput) (*Template, error) {
	var out Template
	if err := c.do(ctx, http.MethodPut, "/v1/templates/"+url.PathEscape(id), t, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteTemplate deletes a template.
func (c *Client) DeleteTemplate(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/templates/"+url.PathEscape(id), nil, nil, nil)
}

// ListTemplates returns one page of templates. cursor is "" for the first page, then
// the previous page's NextCursor; limit 0 means the server's default.
func (c *Client) ListTemplates(ctx context.Context, cursor string, limit int) (*TemplatePage, error) {
	v := url.Values{}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out TemplatePage
	if err := c.do(ctx, http.MethodGet, withQuery("/v1/templates", v), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// do sends one request with in (if not nil) as the JSON body and decodes a 2xx JSON
// answer into out (if not nil). A non-2xx answer becomes *Error.
func (c *Client) do(ctx context.Context, method, path string, in any, hdr http.Header, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("sealpost: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("sealpost: %w", err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.roundTrip(req, out)
}

// roundTrip sends a prepared request with credentials and decodes a 2xx JSON answer
// into out (if not nil). A non-2xx answer becomes *Error.
func (c *Client) roundTrip(req *http.Request, out any) error {
	method, path := req.Method, req.URL.Path
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json, application/problem+json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sealpost: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("sealpost: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	e := &Error{}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if len(raw) > 0 && json.Unmarshal(raw, e) != nil {
		e = &Error{} // not a problem document; keep what the status line says
	}
	e.Status = resp.StatusCode
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	return e
}
