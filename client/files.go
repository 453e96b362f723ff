package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// File is an attachment's content sent as its own part of a multipart/form-data
// request rather than as base64 inside the JSON: a large file is streamed from its
// reader and costs its own size on the wire and in the server's memory.
type File struct {
	Part        string    // the name an Attachment's Part refers to
	Filename    string    // default filename of the attachment naming this part
	ContentType string    // default content type likewise; "" sends application/octet-stream
	Content     io.Reader // read once, while the request is sent
	Size        int64     // the exact number of bytes Content yields
}

// SendFiles submits one message whose attachments name files by Part. The request
// has a known length, so the server can reserve exactly the memory it needs.
func (c *Client) SendFiles(ctx context.Context, m *Message, files []File, opts ...SendOption) (*SendResult, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("sealpost: encode request: %w", err)
	}
	boundary := make([]byte, 24)
	rand.Read(boundary)
	// Lay the request out once without the file contents to learn its length.
	var cw countingWriter
	if err := writeForm(&cw, hex.EncodeToString(boundary), js, files, false); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeForm(pw, hex.EncodeToString(boundary), js, files, true))
	}()
	defer pr.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/messages", pr)
	if err != nil {
		return nil, fmt.Errorf("sealpost: %w", err)
	}
	req.ContentLength = cw.n
	for k, vs := range sendHeaders(opts) {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+hex.EncodeToString(boundary))
	var out SendResult
	if err := c.roundTrip(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// writeForm writes the message part and then each file; without contents it writes
// only the framing and counts each file's Size.
func writeForm(w io.Writer, boundary string, js []byte, files []File, contents bool) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="message"`)
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(js); err != nil {
		return err
	}
	for _, f := range files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(f.Part), quoteEscaper.Replace(f.Filename)))
		h.Set("Content-Type", ct)
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if !contents {
			w.(*countingWriter).n += f.Size
			continue
		}
		n, err := io.Copy(pw, f.Content)
		if err != nil {
			return fmt.Errorf("sealpost: read file %s: %w", f.Part, err)
		}
		if n != f.Size {
			return fmt.Errorf("sealpost: file %s gave %d bytes, not its Size %d", f.Part, n, f.Size)
		}
	}
	return mw.Close()
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
