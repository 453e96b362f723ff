package view

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/internal/message"
)

func TestParseTextOnly(t *testing.T) {
	d := baseDraft()
	d.Text = "Hello\nWorld = 100%\nJosé"
	m := mustParse(t, build(t, d))

	checks := []struct{ name, got, want string }{
		{"From", m.From, "Dr Alice Example <alice@clinic.example>"},
		{"To", m.To, "Bob Patient <bob@patient.example>"},
		{"Cc", m.Cc, "carol@clinic.example"},
		{"Subject", m.Subject, "Your results"},
		{"MessageID", m.MessageID, "abc123@clinic.example"},
		{"Text", m.Text, "Hello\nWorld = 100%\nJosé"},
		{"HTML", m.HTML, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !m.Date.Equal(testDate) {
		t.Errorf("Date = %v, want %v", m.Date, testDate)
	}
	if len(m.Attachments) != 0 || len(m.Inline) != 0 {
		t.Errorf("unexpected parts: %d attachments, %d inline", len(m.Attachments), len(m.Inline))
	}
}

func TestParseHTMLOnly(t *testing.T) {
	d := baseDraft()
	d.HTML = `<html><head><title>T</title><style>p{color:red}</style></head><body>` +
		`<h1>Results</h1><p>Hello   <b>there</b>,<br>all is well.</p>` +
		`<ul><li>one</li><li>two</li></ul><ol start="3"><li>three</li><li>four</li></ol>` +
		`<p>See <a href="https://portal.example/r/1">the portal</a> or <a href="mailto:x@clinic.example">x@clinic.example</a>.</p>` +
		`<script>alert(1)</script></body></html>`
	m := mustParse(t, build(t, d))

	if m.HTML != d.HTML {
		t.Errorf("HTML not kept as sent:\n%q", m.HTML)
	}
	want := "Results\n\nHello there,\nall is well.\n\n- one\n- two\n\n3. three\n4. four\n\n" +
		"See the portal <https://portal.example/r/1> or x@clinic.example."
	if m.Text != want {
		t.Errorf("Text rendering:\n got %q\nwant %q", m.Text, want)
	}
}

func TestParseAlternative(t *testing.T) {
	d := baseDraft()
	d.Text = "plain version"
	d.HTML = "<p>rich version</p>"
	m := mustParse(t, build(t, d))
	if m.Text != "plain version" {
		t.Errorf("Text = %q", m.Text)
	}
	if m.HTML != "<p>rich version</p>" {
		t.Errorf("HTML = %q", m.HTML)
	}
	if len(m.Attachments) != 0 {
		t.Errorf("alternative bodies became %d attachments", len(m.Attachments))
	}
}

func TestParseMixedAttachments(t *testing.T) {
	d := baseDraft()
	d.Text = "Two files attached."
	d.Attachments = []message.Attachment{
		{Filename: "report.pdf", ContentType: "application/pdf", Content: pdfBytes},
		{Filename: "labs.csv", ContentType: "text/csv; charset=utf-8", Content: csvBytes},
	}
	m := mustParse(t, build(t, d))

	if m.Text != "Two files attached." {
		t.Errorf("Text = %q", m.Text)
	}
	want := []Attachment{
		{Index: 0, Filename: "report.pdf", ContentType: "application/pdf", Size: int64(len(pdfBytes)), Data: pdfBytes},
		{Index: 1, Filename: "labs.csv", ContentType: "text/csv", Size: int64(len(csvBytes)), Data: csvBytes},
	}
	if len(m.Attachments) != len(want) {
		t.Fatalf("got %d attachments, want %d", len(m.Attachments), len(want))
	}
	for i, w := range want {
		g := m.Attachments[i]
		if g.Index != w.Index || g.Filename != w.Filename || g.ContentType != w.ContentType || g.Size != w.Size {
			t.Errorf("attachment %d = {%d %q %q %d}, want {%d %q %q %d}",
				i, g.Index, g.Filename, g.ContentType, g.Size, w.Index, w.Filename, w.ContentType, w.Size)
		}
		if !bytes.Equal(g.Data, w.Data) {
			t.Errorf("attachment %d bytes changed:\n got %q\nwant %q", i, g.Data, w.Data)
		}
	}
}

func TestParseRelatedInline(t *testing.T) {
	d := baseDraft()
	d.HTML = `<p>Logo: <img src="cid:logo@clinic.example"></p>`
	d.Attachments = []message.Attachment{
		{Filename: "logo.png", ContentType: "image/png", Content: pngBytes, Inline: true, ContentID: "logo@clinic.example"},
		// Inline and in related, but the HTML never shows it: a file.
		{Filename: "unused.png", ContentType: "image/png", Content: pngBytes, Inline: true, ContentID: "unused@clinic.example"},
		{Filename: "report.pdf", ContentType: "application/pdf", Content: pdfBytes},
	}
	m := mustParse(t, build(t, d))

	if m.HTML != d.HTML {
		t.Errorf("HTML = %q", m.HTML)
	}
	if len(m.Inline) != 1 {
		t.Fatalf("got %d inline parts, want 1", len(m.Inline))
	}
	in := m.Inline[0]
	if in.ContentID != "logo@clinic.example" || in.ContentType != "image/png" || !bytes.Equal(in.Data, pngBytes) {
		t.Errorf("inline = {%q %q %d bytes}", in.ContentID, in.ContentType, len(in.Data))
	}
	var names []string
	for _, a := range m.Attachments {
		names = append(names, a.Filename)
	}
	if got := strings.Join(names, ","); got != "unused.png,report.pdf" {
		t.Errorf("attachments = %s, want unused.png,report.pdf", got)
	}
	if m.Text != "Logo:" {
		t.Errorf("Text rendering of HTML = %q", m.Text)
	}
}

func TestParseEncodedHeadersAndNames(t *testing.T) {
	d := baseDraft()
	d.Subject = "Résultats — prise de sang 🩸"
	d.From.Name = "Dr Zoë Ångström"
	d.Text = "x"
	d.Attachments = []message.Attachment{
		{Filename: "compte rendu été.pdf", ContentType: "application/pdf", Content: pdfBytes},
	}
	m := mustParse(t, build(t, d))
	if m.Subject != d.Subject {
		t.Errorf("Subject = %q, want %q", m.Subject, d.Subject)
	}
	if m.From != "Dr Zoë Ångström <alice@clinic.example>" {
		t.Errorf("From = %q", m.From)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "compte rendu été.pdf" {
		t.Fatalf("attachments = %+v", m.Attachments)
	}

	// Forms senders use that the standard parser does not read.
	cases := []struct{ name, disposition, want string }{
		{"rfc2231 latin-1", `attachment; filename*=iso-8859-1''r%E9sum%E9.pdf`, "résumé.pdf"},
		{"rfc2231 continuation", `attachment; filename*0*=utf-8''caf%C3%A9; filename*1="-notes.txt"`, "café-notes.txt"},
		{"rfc2047 in quotes", `attachment; filename="=?utf-8?B?w6l0w6kucGRm?="`, "été.pdf"},
		{"duplicate parameter", `attachment; filename="a.pdf"; filename="b.pdf"`, "a.pdf"},
		{"content-type name only", ``, "from-type.pdf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := raw(
				"From: a@example.org",
				`Content-Type: multipart/mixed; boundary="b"`,
				"",
				"--b",
				"Content-Type: text/plain",
				"",
				"body",
				"--b",
				`Content-Type: application/pdf; name="from-type.pdf"`,
				"Content-Disposition: "+c.disposition,
				"",
				"%PDF",
				"--b--",
				"")
			m := mustParse(t, b)
			if len(m.Attachments) != 1 {
				t.Fatalf("got %d attachments", len(m.Attachments))
			}
			if got := m.Attachments[0].Filename; got != c.want {
				t.Errorf("Filename = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseCharsets(t *testing.T) {
	cases := []struct {
		name              string
		msg               []byte
		wantText, wantSub string
	}{
		{"declared latin-1", latin1Message, "Café crème à 10h.\n", "Résultats d'analyse"},
		{"undeclared 8-bit", raw("Subject: s", "Content-Type: text/plain", "", "na\xefve \x93quotes\x94", ""), "naïve “quotes”\n", "s"},
		{"windows-1252 base64", raw("Subject: s", "Content-Type: text/plain; charset=windows-1252",
			"Content-Transfer-Encoding: base64", "", "k2hpIJQ=", ""), "“hi ”", "s"},
		{"unknown charset", raw("Subject: s", "Content-Type: text/plain; charset=x-nonesuch", "", "plain ascii", ""), "plain ascii\n", "s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mustParse(t, c.msg)
			if m.Text != c.wantText {
				t.Errorf("Text = %q, want %q", m.Text, c.wantText)
			}
			if m.Subject != c.wantSub {
				t.Errorf("Subject = %q, want %q", m.Subject, c.wantSub)
			}
		})
	}
	if m := mustParse(t, latin1Message); m.From != "René <rene@example.org>" {
		t.Errorf("From = %q", m.From)
	}
}

func TestParseHostileFilenames(t *testing.T) {
	m := mustParse(t, hostileNames)
	want := []string{"passwd.pdf", "evilfdp.exe", "attachment-3.pdf"}
	if len(m.Attachments) != len(want) {
		t.Fatalf("got %d attachments, want %d", len(m.Attachments), len(want))
	}
	for i, w := range want {
		if got := m.Attachments[i].Filename; got != w {
			t.Errorf("attachment %d Filename = %q, want %q", i, got, w)
		}
		if m.Attachments[i].Index != i {
			t.Errorf("attachment %d Index = %d", i, m.Attachments[i].Index)
		}
	}
	if string(m.Attachments[0].Data) != "%PDF-1.4\n" {
		t.Errorf("base64 attachment decoded to %q", m.Attachments[0].Data)
	}
}

func TestParseMessageRFC822(t *testing.T) {
	m := mustParse(t, rfc822Message)
	if m.Text != "See attached." {
		t.Errorf("Text = %q", m.Text)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("got %d attachments, want 1", len(m.Attachments))
	}
	a := m.Attachments[0]
	if a.ContentType != "message/rfc822" || a.Filename != "attachment-1.eml" {
		t.Errorf("attachment = {%q %q}", a.ContentType, a.Filename)
	}
	wantData := "From: x@example.org\r\nSubject: inner\r\n\r\nInner body."
	if string(a.Data) != wantData || a.Size != int64(len(wantData)) {
		t.Errorf("embedded message = %q (size %d)", a.Data, a.Size)
	}

	named := bytes.Replace(rfc822Message, []byte("Content-Type: message/rfc822"),
		[]byte("Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"Fwd: lab note\""), 1)
	if m := mustParse(t, named); len(m.Attachments) != 1 || m.Attachments[0].Filename != "Fwd_ lab note.eml" {
		t.Errorf("named message/rfc822 = %+v", m.Attachments)
	}
}

func TestParseDigestAndSigned(t *testing.T) {
	b := raw(
		"Subject: signed",
		`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="s"`,
		"",
		"--s",
		"Content-Type: text/plain",
		"",
		"signed text",
		"--s",
		"Content-Type: application/pkcs7-signature",
		"Content-Transfer-Encoding: base64",
		"",
		"MIIB",
		"--s--",
		"")
	m := mustParse(t, b)
	if m.Text != "signed text" || len(m.Attachments) != 1 || m.Attachments[0].Filename != "attachment-1.p7s" {
		t.Errorf("signed: text %q, attachments %+v", m.Text, m.Attachments)
	}

	b = raw(
		"Subject: digest",
		`Content-Type: multipart/digest; boundary="d"`,
		"",
		"--d",
		"",
		"Subject: one",
		"",
		"first",
		"--d--",
		"")
	m = mustParse(t, b)
	if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "message/rfc822" {
		t.Errorf("digest parts = %+v", m.Attachments)
	}
}

func TestParseInlineOutsideRelated(t *testing.T) {
	// Some clients put the images beside the HTML in multipart/mixed.
	b := raw(
		`Content-Type: multipart/mixed; boundary="m"`,
		"",
		"--m",
		"Content-Type: text/html; charset=utf-8",
		"",
		`<p><img src="cid:one@x"><img src="cid:two@x"></p>`,
		"--m",
		"Content-Type: image/jpg",
		"Content-ID: <one@x>",
		"Content-Transfer-Encoding: base64",
		"",
		"/9j/4AAQ",
		"--m",
		"Content-Type: image/svg+xml",
		"Content-ID: <two@x>",
		"",
		"<svg xmlns='http://www.w3.org/2000/svg'/>",
		"--m--",
		"")
	m := mustParse(t, b)
	if len(m.Inline) != 1 || m.Inline[0].ContentID != "one@x" || m.Inline[0].ContentType != "image/jpeg" {
		t.Errorf("inline = %+v", m.Inline)
	}
	// SVG can carry script, so it is only ever a download.
	if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "image/svg+xml" {
		t.Errorf("attachments = %+v", m.Attachments)
	}
}
