package message

import (
	"strings"
	"testing"
)

// validDraft is the smallest draft that passes Validate.
func validDraft() *Draft {
	return &Draft{
		From:    Address{Name: "Clinic", Addr: "noreply@clinic.example"},
		To:      []Address{{Name: "Pat", Addr: "pat@home.example"}},
		Subject: "Your appointment",
		Text:    "See you on Monday.",
	}
}

func TestValidateAcceptsValidDraft(t *testing.T) {
	d := validDraft()
	d.HTML = "<p>See you</p>"
	d.Cc = []Address{{Addr: "cc@home.example"}}
	d.Bcc = []Address{{Addr: "bcc@home.example"}}
	d.ReplyTo = []Address{{Addr: "desk@clinic.example"}}
	d.Subject = "=?utf-8?q?R=C3=A9sultats?="
	d.Headers = []Header{{"List-Unsubscribe", "<mailto:u@clinic.example>"}, {"X-Case", "42"}, {"In-Reply-To", "<a@b.example>"}}
	d.Attachments = []Attachment{
		{Filename: "résumé.pdf", ContentType: "application/pdf", Content: []byte("%PDF")},
		{Filename: "notes.txt", ContentType: "text/plain; charset=UTF-8", Content: []byte("hi")},
		{ContentType: "image/png", Inline: true, ContentID: "logo@clinic.example", Content: []byte{1}},
	}
	d.MessageID = "123.abc@clinic.example"
	if errs := d.Validate(DefaultLimits()); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
}

func TestValidateFields(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(d *Draft)
		field  string
		status int
	}{
		{"no from", func(d *Draft) { d.From = Address{} }, "from", 422},
		{"bad from", func(d *Draft) { d.From.Addr = "nobody" }, "from", 400},
		{"no recipients", func(d *Draft) { d.To = nil }, "to", 422},
		{"too many recipients", func(d *Draft) {
			for range 50 {
				d.Cc = append(d.Cc, Address{Addr: "c@d.example"})
			}
		}, "to", 422},
		{"bad to", func(d *Draft) { d.To = append(d.To, Address{Addr: "ok@y.example"}, Address{Addr: "x@y"}) }, "to[2]", 400},
		{"bad cc", func(d *Draft) { d.Cc = []Address{{Addr: "a@b.example\r\nBcc: e@f.example"}} }, "cc[0]", 400},
		{"bad bcc", func(d *Draft) { d.Bcc = []Address{{Addr: "a@b.example", Name: "x\x00"}} }, "bcc[0]", 400},
		{"bad reply-to", func(d *Draft) { d.ReplyTo = []Address{{Addr: "@b.example"}} }, "reply_to[0]", 400},
		{"name with crlf", func(d *Draft) { d.To[0].Name = "Pat\r\nBcc: e@f.example" }, "to[0]", 400},
		{"name encoded crlf", func(d *Draft) { d.To[0].Name = "=?utf-8?b?UGF0DQpCY2M6IGVAZi5leGFtcGxl?=" }, "to[0]", 400},
		{"subject crlf", func(d *Draft) { d.Subject = "Hi\r\nBcc: e@f.example" }, "subject", 400},
		{"subject lf", func(d *Draft) { d.Subject = "Hi\nthere" }, "subject", 400},
		{"subject nul", func(d *Draft) { d.Subject = "Hi\x00" }, "subject", 400},
		{"subject encoded lf", func(d *Draft) { d.Subject = "=?utf-8?q?Hi=0ABcc:_e@f.example?=" }, "subject", 400},
		{"subject encoded latin1 cr", func(d *Draft) { d.Subject = "=?iso-8859-1?q?Hi=0D?=" }, "subject", 400},
		{"subject nested words", func(d *Draft) { d.Subject = "=?utf-8?q?=3D=3Futf-8=3Fq=3F=0A=3F=3D?=" }, "subject", 400},
		{"subject unknown charset", func(d *Draft) { d.Subject = "=?koi8-r?q?abc?=" }, "subject", 400},
		{"subject too long", func(d *Draft) { d.Subject = strings.Repeat("s", 999) }, "subject", 413},
		{"no body", func(d *Draft) { d.Text, d.Attachments = "", nil }, "text", 422},
		{"attachment only", func(d *Draft) { d.Text, d.From = "", Address{} }, "from", 422},
		{"nul in text", func(d *Draft) { d.Text = "a\x00b" }, "text", 400},
		{"nul in html", func(d *Draft) { d.HTML = "<p>\x00</p>" }, "html", 400},
		{"invalid utf-8 text", func(d *Draft) { d.Text = "\xff" }, "text", 400},
		{"too many attachments", func(d *Draft) { d.Attachments = make([]Attachment, 51); fillNames(d) }, "attachments", 413},
		{"attachment without filename", func(d *Draft) { d.Attachments = []Attachment{{Content: []byte("x")}} }, "attachments[0].filename", 422},
		{"filename slash", func(d *Draft) { attach(d, Attachment{Filename: "../etc/passwd"}) }, "attachments[1].filename", 400},
		{"filename backslash", func(d *Draft) { attach(d, Attachment{Filename: `C:\x.pdf`}) }, "attachments[1].filename", 400},
		{"filename crlf", func(d *Draft) { attach(d, Attachment{Filename: "a\r\nb.pdf"}) }, "attachments[1].filename", 400},
		{"filename encoded lf", func(d *Draft) { attach(d, Attachment{Filename: "=?utf-8?q?a=0Ab.pdf?="}) }, "attachments[1].filename", 400},
		{"filename control", func(d *Draft) { attach(d, Attachment{Filename: "a\x7f.pdf"}) }, "attachments[1].filename", 400},
		{"filename c1 control", func(d *Draft) { attach(d, Attachment{Filename: "a\u0085.pdf"}) }, "attachments[1].filename", 400},
		{"filename rlo", func(d *Draft) { attach(d, Attachment{Filename: "scan\u202efdp.exe"}) }, "attachments[1].filename", 400},
		{"filename dotdot", func(d *Draft) { attach(d, Attachment{Filename: ".."}) }, "attachments[1].filename", 400},
		{"filename too long", func(d *Draft) { attach(d, Attachment{Filename: strings.Repeat("f", 256)}) }, "attachments[1].filename", 400},
		{"content type garbage", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentType: "not a type"}) }, "attachments[1].content_type", 400},
		{"content type no slash", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentType: "text"}) }, "attachments[1].content_type", 400},
		{"content type crlf", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentType: "text/plain\r\nX-A: b"}) }, "attachments[1].content_type", 400},
		{"content type multipart", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentType: "multipart/mixed; boundary=x"}) }, "attachments[1].content_type", 422},
		{"content type message", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentType: "Message/RFC822"}) }, "attachments[1].content_type", 422},
		{"content type charset", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentType: "text/plain; charset=koi8-r"}) }, "attachments[1].content_type", 422},
		{"attachment too large", func(d *Draft) { attach(d, Attachment{Filename: "a", Content: make([]byte, 40<<20+1)}) }, "attachments[1].content", 413},
		{"content id brackets", func(d *Draft) { attach(d, Attachment{Filename: "a", ContentID: "<a@b>"}) }, "attachments[1].content_id", 400},
		{"content id duplicate", func(d *Draft) {
			attach(d, Attachment{Filename: "a", ContentID: "x@y"})
			attach(d, Attachment{Filename: "b", ContentID: "x@y"})
		}, "attachments[2].content_id", 422},
		{"too many headers", func(d *Draft) {
			for range 51 {
				d.Headers = append(d.Headers, Header{"X-A", "b"})
			}
		}, "headers", 413},
		{"header name empty", func(d *Draft) { header(d, "", "v") }, "headers[1].name", 400},
		{"header name space", func(d *Draft) { header(d, "X Foo", "v") }, "headers[1].name", 400},
		{"header name colon", func(d *Draft) { header(d, "X-Foo:", "v") }, "headers[1].name", 400},
		{"header name crlf", func(d *Draft) { header(d, "X-Foo\r\nBcc", "v") }, "headers[1].name", 400},
		{"header name non-ascii", func(d *Draft) { header(d, "X-Föö", "v") }, "headers[1].name", 400},
		{"header name too long", func(d *Draft) { header(d, "X-"+strings.Repeat("a", 80), "v") }, "headers[1].name", 400},
		{"reserved bcc", func(d *Draft) { header(d, "bcc", "e@f.example") }, "headers[1].name", 422},
		{"reserved content", func(d *Draft) { header(d, "Content-Type", "text/html") }, "headers[1].name", 422},
		{"reserved dkim", func(d *Draft) { header(d, "DKIM-Signature", "v=1") }, "headers[1].name", 422},
		{"reserved mime", func(d *Draft) { header(d, "MIME-Version", "1.0") }, "headers[1].name", 422},
		{"reserved sender", func(d *Draft) { header(d, "SENDER", "x@y.example") }, "headers[1].name", 422},
		{"header value crlf", func(d *Draft) { header(d, "X-Foo", "a\r\nBcc: e@f.example") }, "headers[1].value", 400},
		{"header value encoded crlf", func(d *Draft) { header(d, "X-Foo", "=?utf-8?q?a=0D=0ABcc:_e@f.example?=") }, "headers[1].value", 400},
		{"header value too long", func(d *Draft) { header(d, "X-Foo", strings.Repeat("a ", 500)) }, "headers[1].value", 413},
		{"header value unfoldable", func(d *Draft) { header(d, "X-Foo", strings.Repeat("a", 997)) }, "headers[1].value", 400},
		{"message id brackets", func(d *Draft) { d.MessageID = "<a@b.example>" }, "message_id", 400},
		{"message id no at", func(d *Draft) { d.MessageID = "abc" }, "message_id", 400},
		{"message id crlf", func(d *Draft) { d.MessageID = "a@b\r\nBcc: x" }, "message_id", 400},
		{"total too large", func(d *Draft) {
			for range 2 {
				attach(d, Attachment{Filename: "a", Content: make([]byte, 26<<20)})
			}
		}, "attachments", 413},
		{"body too large", func(d *Draft) { d.HTML = strings.Repeat("x", 10<<20) }, "html", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDraft()
			d.Attachments = []Attachment{{Filename: "ok.txt", Content: []byte("ok")}}
			d.Headers = []Header{{"X-Ok", "fine"}}
			tt.edit(d)
			errs := d.Validate(Limits{})
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want one for %s", len(errs), errs, tt.field)
			}
			if errs[0].Field != tt.field || errs[0].Status != tt.status {
				t.Errorf("got %s (%d) %q, want %s (%d)", errs[0].Field, errs[0].Status, errs[0].Detail, tt.field, tt.status)
			}
			if strings.ContainsAny(errs[0].Error(), "\r\n\x00") {
				t.Errorf("error text carries control characters: %q", errs[0].Error())
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	d := &Draft{
		Subject: "a\nb",
		Headers: []Header{{"From", "x"}, {"X-A", "b\rc"}},
	}
	errs := d.Validate(DefaultLimits())
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := "from to subject text headers[0].name headers[1].value"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("fields = %q, want %q", got, want)
	}
}

func TestValidateCustomLimits(t *testing.T) {
	d := validDraft()
	d.Subject = "twelve bytes"
	if errs := d.Validate(Limits{MaxSubjectBytes: 11}); len(errs) != 1 || errs[0].Field != "subject" {
		t.Errorf("errors = %v, want subject too long", errs)
	}
	if errs := d.Validate(Limits{MaxSubjectBytes: 12}); len(errs) != 0 {
		t.Errorf("errors = %v, want none", errs)
	}
}

func attach(d *Draft, a Attachment) { d.Attachments = append(d.Attachments, a) }

func header(d *Draft, name, value string) { d.Headers = append(d.Headers, Header{name, value}) }

func fillNames(d *Draft) {
	for i := range d.Attachments {
		d.Attachments[i].Filename = "f"
	}
}
