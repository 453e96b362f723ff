package view

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/message"
)

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		name  string
		msg   []byte
		check func(t *testing.T, m *Message)
	}{
		{"broken boundary shows the raw body", brokenBoundary, func(t *testing.T, m *Message) {
			if m.Subject != "broken" || !strings.Contains(m.Text, "Visible anyway.") {
				t.Errorf("subject %q, text %q", m.Subject, m.Text)
			}
		}},
		{"truncated base64 keeps body and partial file", truncatedBase64, func(t *testing.T, m *Message) {
			if m.Text != "Body before the cut." {
				t.Errorf("Text = %q", m.Text)
			}
			if len(m.Attachments) != 1 || !bytes.HasPrefix(m.Attachments[0].Data, []byte("%PDF-1.4\n")) {
				t.Errorf("attachments = %+v", m.Attachments)
			}
		}},
		{"no header at all", noHeader, func(t *testing.T, m *Message) {
			if m.Text != "Just some text that arrived without any header.\nSecond line.\n" {
				t.Errorf("Text = %q", m.Text)
			}
		}},
		{"header without body", raw("Subject: only a subject"), func(t *testing.T, m *Message) {
			if m.Subject != "only a subject" || m.Text != "" {
				t.Errorf("subject %q, text %q", m.Subject, m.Text)
			}
		}},
		{"garbage line inside the header", raw(
			"Subject: s",
			"this line is not a field",
			"Content-Type: text/html",
			"",
			"<p>still html</p>"), func(t *testing.T, m *Message) {
			if m.HTML != "<p>still html</p>" || m.Text != "still html" {
				t.Errorf("html %q, text %q", m.HTML, m.Text)
			}
		}},
		{"bad date, bad addresses, bad message-id", raw(
			"From: <<not an address",
			"Date: yesterday-ish",
			"Message-ID: no brackets here",
			"",
			"body"), func(t *testing.T, m *Message) {
			if !m.Date.IsZero() || m.From != "<<not an address" || m.MessageID != "no brackets here" || m.Text != "body" {
				t.Errorf("date %v, from %q, id %q, text %q", m.Date, m.From, m.MessageID, m.Text)
			}
		}},
		{"header injection characters removed from display", raw(
			"Subject: a\x00b\x1bc\u202eevil",
			"",
			"x"), func(t *testing.T, m *Message) {
			if m.Subject != "a b cevil" {
				t.Errorf("Subject = %q", m.Subject)
			}
		}},
		{"missing closing boundary", raw(
			"Subject: s",
			`Content-Type: multipart/alternative; boundary="a"`,
			"",
			"--a",
			"Content-Type: text/plain",
			"",
			"plain part",
			"--a",
			"Content-Type: text/html",
			"",
			"<p>html part"), func(t *testing.T, m *Message) {
			if m.Text != "plain part" || !strings.Contains(m.HTML, "html part") {
				t.Errorf("text %q, html %q", m.Text, m.HTML)
			}
		}},
		{"multipart without boundary parameter", raw(
			"Subject: s",
			"Content-Type: multipart/mixed",
			"",
			"content"), func(t *testing.T, m *Message) {
			if m.Text != "content" {
				t.Errorf("Text = %q", m.Text)
			}
		}},
		{"unknown transfer encoding", raw(
			"Subject: s",
			"Content-Type: text/plain",
			"Content-Transfer-Encoding: x-weird",
			"",
			"as is"), func(t *testing.T, m *Message) {
			if m.Text != "as is" {
				t.Errorf("Text = %q", m.Text)
			}
		}},
		{"bare LF line endings", []byte("Subject: lf\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\nunix\n--z--\n"),
			func(t *testing.T, m *Message) {
				if m.Subject != "lf" || m.Text != "unix" {
					t.Errorf("subject %q, text %q", m.Subject, m.Text)
				}
			}},
		{"mbox separator line", []byte("From sender@example.org Thu Jan  1 00:00:00 2025\r\nSubject: mbox\r\n\r\nbody"),
			func(t *testing.T, m *Message) {
				if m.Subject != "mbox" || m.Text != "body" {
					t.Errorf("subject %q, text %q", m.Subject, m.Text)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(c.msg, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c.check(t, m)
		})
	}
}

func TestParseNothingUsable(t *testing.T) {
	for _, in := range [][]byte{nil, []byte(""), []byte("\r\n\r\n  \r\n")} {
		m, err := Parse(in, Limits{})
		if err == nil || m != nil {
			t.Errorf("Parse(%q) = %v, %v; want an error", in, m, err)
		}
	}
}

// mixedWithFiles is a message with n PDF attachments after its text.
func mixedWithFiles(t testing.TB, n int) []byte {
	d := baseDraft()
	d.Text = "body"
	for i := range n {
		d.Attachments = append(d.Attachments, message.Attachment{
			Filename: fmt.Sprintf("f%d.pdf", i), ContentType: "application/pdf", Content: pdfBytes,
		})
	}
	return build(t, d)
}

// nested wraps a text/plain part in depth multipart/mixed levels.
func nested(depth int) []byte {
	var b strings.Builder
	b.WriteString("Subject: deep\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"n%d\"\r\n\r\n--n%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep text")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "\r\n--n%d--", i)
	}
	return []byte(b.String())
}

func TestParseLimits(t *testing.T) {
	t.Run("too many parts", func(t *testing.T) {
		m, err := Parse(mixedWithFiles(t, 6), Limits{MaxParts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != "body" || len(m.Attachments) != 2 || !m.Incomplete {
			t.Errorf("text %q, %d attachments, incomplete %v; want body, 2 and true", m.Text, len(m.Attachments), m.Incomplete)
		}
		if m, _ := Parse(mixedWithFiles(t, 6), Limits{}); len(m.Attachments) != 6 || m.Incomplete {
			t.Errorf("default limit kept %d of 6 attachments, incomplete %v", len(m.Attachments), m.Incomplete)
		}
		if m, _ := Parse(mixedWithFiles(t, 6), Limits{MaxParts: 7}); m.Incomplete {
			t.Error("a message exactly at the part limit is marked incomplete")
		}
	})
	t.Run("too deep", func(t *testing.T) {
		cases := []struct {
			depth int
			lim   Limits
			found bool
		}{
			{10, Limits{}, true},
			{11, Limits{}, false},
			{3, Limits{MaxDepth: 3}, true},
			{4, Limits{MaxDepth: 3}, false},
			{40, Limits{MaxDepth: 50}, true},
		}
		for _, c := range cases {
			m, err := Parse(nested(c.depth), c.lim)
			if err != nil {
				t.Fatalf("depth %d: %v", c.depth, err)
			}
			if got := m.Text == "deep text"; got != c.found || m.Incomplete == c.found {
				t.Errorf("depth %d, MaxDepth %d: text found = %v, want %v (text %q); incomplete %v", c.depth, c.lim.MaxDepth, got, c.found, m.Text, m.Incomplete)
			}
			if m.Subject != "deep" {
				t.Errorf("depth %d: subject lost", c.depth)
			}
		}
	})
	t.Run("part size", func(t *testing.T) {
		d := baseDraft()
		d.Text = strings.Repeat("a", 100)
		d.Attachments = []message.Attachment{
			{Filename: "big.pdf", ContentType: "application/pdf", Content: bytes.Repeat([]byte("x"), 65)},
			{Filename: "small.pdf", ContentType: "application/pdf", Content: bytes.Repeat([]byte("y"), 64)},
		}
		m, err := Parse(build(t, d), Limits{MaxPartBytes: 64})
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != strings.Repeat("a", 64) {
			t.Errorf("text not cut to the limit: %d bytes", len(m.Text))
		}
		if len(m.Attachments) != 1 || m.Attachments[0].Filename != "small.pdf" || !m.Incomplete {
			t.Errorf("attachments = %+v, incomplete %v; want only small.pdf, and true", m.Attachments, m.Incomplete)
		}
	})
}
