package view

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/message"
)

// testDate is the Date of every generated message.
var testDate = time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("", 3600))

// baseDraft is a valid draft with everything but the content.
func baseDraft() *message.Draft {
	return &message.Draft{
		From:      message.Address{Name: "Dr Alice Example", Addr: "alice@clinic.example"},
		To:        []message.Address{{Name: "Bob Patient", Addr: "bob@patient.example"}},
		Cc:        []message.Address{{Addr: "carol@clinic.example"}},
		Subject:   "Your results",
		MessageID: "abc123@clinic.example",
		Date:      testDate,
	}
}

// build writes d as an Internet message with deterministic boundaries.
func build(t testing.TB, d *message.Draft) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := message.WriteWithOptions(&buf, d, message.WriteOptions{BoundarySeed: []byte("view-test")}); err != nil {
		t.Fatalf("building test message: %v", err)
	}
	return buf.Bytes()
}

// raw joins lines with CRLF, for hand-written messages.
func raw(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n"))
}

// mustParse parses with default limits and fails the test on error.
func mustParse(t testing.TB, b []byte) *Message {
	t.Helper()
	m, err := Parse(b, Limits{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m == nil {
		t.Fatal("Parse returned nil message without error")
	}
	return m
}

// pdfBytes and csvBytes are attachment contents with bytes that any
// re-encoding would disturb.
var (
	pdfBytes = append([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), 0, 1, 2, 0xff, 0xfe, '\r', '\n', '=', '.')
	csvBytes = []byte("name,value\r\nglucose,5.4\r\nhba1c,\"6,1%\"\r\n")
	pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
)

// seedMessages returns the inputs of the parsing tests, for the fuzz seed
// corpus.
func seedMessages(t testing.TB) [][]byte {
	d := baseDraft()
	d.Text = "Hello\nWorld"
	text := build(t, d)

	d = baseDraft()
	d.Text = "Plain"
	d.HTML = `<p>Rich <img src="cid:logo@clinic.example"></p>`
	d.Attachments = []message.Attachment{
		{Filename: "logo.png", ContentType: "image/png", Content: pngBytes, Inline: true, ContentID: "logo@clinic.example"},
		{Filename: "report.pdf", ContentType: "application/pdf", Content: pdfBytes},
		{Filename: "labs.csv", ContentType: "text/csv", Content: csvBytes},
	}
	full := build(t, d)

	return [][]byte{text, full, latin1Message, rfc822Message, hostileNames, brokenBoundary, truncatedBase64, noHeader}
}

var latin1Message = raw(
	"From: =?iso-8859-1?q?Ren=E9?= <rene@example.org>",
	"Subject: =?ISO-8859-1?Q?R=E9sultats_d'analyse?=",
	"Content-Type: text/plain; charset=iso-8859-1",
	"Content-Transfer-Encoding: quoted-printable",
	"",
	"Caf=E9 cr=E8me =E0 10h.",
	"")

var rfc822Message = raw(
	"From: a@example.org",
	"Subject: fwd",
	"MIME-Version: 1.0",
	`Content-Type: multipart/mixed; boundary="b1"`,
	"",
	"--b1",
	"Content-Type: text/plain",
	"",
	"See attached.",
	"--b1",
	"Content-Type: message/rfc822",
	"",
	"From: x@example.org",
	"Subject: inner",
	"",
	"Inner body.",
	"--b1--",
	"")

var hostileNames = raw(
	"From: a@example.org",
	`Content-Type: multipart/mixed; boundary="b"`,
	"",
	"--b",
	"Content-Type: text/plain",
	"",
	"files",
	"--b",
	"Content-Type: application/pdf",
	"Content-Disposition: attachment; filename=\"../../etc/pass\twd.pdf\"",
	"Content-Transfer-Encoding: base64",
	"",
	"JVBERi0xLjQK",
	"--b",
	"Content-Type: application/octet-stream",
	"Content-Disposition: attachment; filename*=utf-8''..%5C..%5Cevil%E2%80%AEfdp.exe%07",
	"",
	"MZ",
	"--b",
	"Content-Type: application/pdf",
	"Content-Disposition: attachment",
	"",
	"%PDF",
	"--b--",
	"")

var brokenBoundary = raw(
	"From: a@example.org",
	"Subject: broken",
	`Content-Type: multipart/mixed; boundary="nothere"`,
	"",
	"--other",
	"Content-Type: text/plain",
	"",
	"Visible anyway.",
	"--other--",
	"")

var truncatedBase64 = raw(
	"From: a@example.org",
	"Subject: cut",
	`Content-Type: multipart/mixed; boundary="b"`,
	"",
	"--b",
	"Content-Type: text/plain",
	"",
	"Body before the cut.",
	"--b",
	"Content-Type: application/pdf",
	`Content-Disposition: attachment; filename="cut.pdf"`,
	"Content-Transfer-Encoding: base64",
	"",
	"JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PD4+CmVuZG9i")

var noHeader = []byte("Just some text that arrived without any header.\r\nSecond line.\r\n")
