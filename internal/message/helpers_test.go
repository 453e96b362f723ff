package message

import (
	"bytes"
	"io"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// readPart is one leaf of a message as a recipient's parser sees it.
type readPart struct {
	mediaType, disposition, filename, cid string
	body                                  []byte
}

// readMessage parses raw with go-message's mail reader.
func readMessage(t testing.TB, raw []byte) (mail.Header, []readPart) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("re-parsing output: %v", err)
	}
	var parts []readPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		var rp readPart
		var h message.Header
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			h = ph.Header
		case *mail.AttachmentHeader:
			h = ph.Header
			rp.filename, _ = ph.Filename()
		}
		rp.mediaType, _, _ = h.ContentType()
		rp.disposition, _, _ = h.ContentDisposition()
		if rp.filename == "" {
			_, params, _ := h.ContentDisposition()
			rp.filename = params["filename"]
		}
		rp.cid = h.Get("Content-Id")
		if rp.body, err = io.ReadAll(p.Body); err != nil {
			t.Fatalf("reading part body: %v", err)
		}
		parts = append(parts, rp)
	}
	return mr.Header, parts
}

// structure lists every entity as "section=media/type", section "" for the
// root.
func structure(t testing.TB, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("re-parsing output: %v", err)
	}
	var out []string
	err = e.Walk(func(path []int, e *message.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, _ := e.Header.ContentType()
		idx := make([]string, len(path))
		for i, p := range path {
			idx[i] = strconv.Itoa(p + 1) // IMAP-style section numbers
		}
		out = append(out, strings.Join(idx, ".")+"="+mt)
		return nil
	})
	if err != nil {
		t.Fatalf("walking output: %v", err)
	}
	return strings.Join(out, " ")
}

// checkLines enforces RFC 5322 §2.1.1 and §2.3 on the whole output.
func checkLines(t testing.TB, raw []byte) {
	t.Helper()
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			t.Fatalf("bare LF at offset %d", i)
		}
		if c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			t.Fatalf("bare CR at offset %d", i)
		}
	}
	for n, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("line %d is %d bytes long", n+1, len(line))
		}
	}
}

func writeDraft(t testing.TB, d *Draft) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteWithOptions(&buf, d, WriteOptions{BoundarySeed: []byte("test")}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	checkLines(t, buf.Bytes())
	return buf.Bytes()
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// expectedKeys lists the header fields Write must produce for d, in order.
func expectedKeys(d *Draft, singlePart bool) []string {
	keys := []string{"Date", "From"}
	for _, f := range []struct {
		key string
		n   int
	}{{"Reply-To", len(d.ReplyTo)}, {"To", len(d.To)}, {"Cc", len(d.Cc)}} {
		if f.n > 0 {
			keys = append(keys, f.key)
		}
	}
	if d.Subject != "" {
		keys = append(keys, "Subject")
	}
	keys = append(keys, "Message-Id", "Mime-Version", "Content-Type")
	if singlePart {
		keys = append(keys, "Content-Transfer-Encoding")
	}
	for _, h := range d.Headers {
		keys = append(keys, textproto.CanonicalMIMEHeaderKey(h.Name))
	}
	return keys
}

// checkReparsed asserts that a written, valid draft comes back with exactly
// the intended header fields and values.
func checkReparsed(t testing.TB, d *Draft, raw []byte) {
	t.Helper()
	h, parts := readMessage(t, raw)
	var got []string
	for f := h.Fields(); f.Next(); {
		got = append(got, f.Key())
	}
	single := len(d.Attachments) == 0 && (d.Text == "" || d.HTML == "")
	if want := expectedKeys(d, single); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("header fields\n got %q\nwant %q", got, want)
	}
	if d.Subject != "" {
		want, _ := canonicalText(d.Subject)
		if s, err := h.Subject(); err != nil || s != want {
			t.Fatalf("subject came back as %q (%v), want %q", s, err, want)
		}
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != len(d.To) {
		t.Fatalf("To came back as %v (%v)", to, err)
	}
	for i, a := range d.To {
		want, _ := canonicalText(a.Name)
		if to[i].Name != want {
			t.Fatalf("to[%d] name came back as %q, want %q", i, to[i].Name, want)
		}
	}
	for _, ch := range d.Headers {
		want, _ := canonicalText(ch.Value)
		v, err := h.Text(ch.Name)
		// Unfolding may merge whitespace runs at fold points (RFC 5322
		// §2.2.3); the words themselves must be intact.
		if err != nil || strings.Join(strings.Fields(v), " ") != strings.Join(strings.Fields(want), " ") {
			t.Fatalf("header %q came back as %q (%v), want %q", ch.Name, v, err, want)
		}
	}
	for i, a := range d.Attachments {
		want, _ := canonicalText(a.Filename)
		p := parts[len(parts)-len(d.Attachments)+i]
		if p.filename != want || string(p.body) != string(a.Content) {
			t.Fatalf("attachment %d came back as %q, want %q", i, p.filename, want)
		}
	}
}
