package message

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWriteRoundTrip(t *testing.T) {
	date := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("", -5*3600))
	d := &Draft{
		From:    Address{Name: "Dr. Zoë Ångström", Addr: "zoe@Clinic.example"},
		To:      []Address{{Name: "Pat Doe", Addr: "pat@home.example"}, {Addr: "sam@bücher.example"}},
		Cc:      []Address{{Name: `Lee "Nurse", RN`, Addr: "lee@clinic.example"}},
		Bcc:     []Address{{Name: "Hidden", Addr: "audit@clinic.example"}},
		ReplyTo: []Address{{Addr: "desk@clinic.example"}},
		Subject: "Résultats d'analyse — prêts",
		Text:    "Line one\nLine two\r\nLine three\rend",
		HTML:    "<p>Bonjour <img src=\"cid:logo@clinic.example\"></p>\n",
		Attachments: []Attachment{
			{Filename: "logo.png", ContentType: "image/png", Inline: true, ContentID: "logo@clinic.example", Content: []byte("\x89PNG")},
			{Filename: "compte rendu é.bin", Content: allBytes()},
			{Filename: "notes.txt", ContentType: "text/plain; charset=utf-8", Content: []byte("a\nb")},
		},
		Headers:   []Header{{"X-Case-Ref", "A-42"}, {"List-Unsubscribe", "<mailto:unsub@clinic.example>"}, {"X-Note", "  café  "}},
		MessageID: "m1.x@clinic.example",
		Date:      date,
	}
	raw := writeDraft(t, d)
	h, parts := readMessage(t, raw)

	var keys []string
	for f := h.Fields(); f.Next(); {
		keys = append(keys, f.Key())
	}
	wantKeys := "Date From Reply-To To Cc Subject Message-Id Mime-Version Content-Type X-Case-Ref List-Unsubscribe X-Note"
	if got := strings.Join(keys, " "); got != wantKeys {
		t.Errorf("header fields\n got %s\nwant %s", got, wantKeys)
	}
	if got, err := h.Date(); err != nil || !got.Equal(date) {
		t.Errorf("Date = %v, %v", got, err)
	}
	checkAddrs := func(key string, want ...string) {
		t.Helper()
		list, err := h.AddressList(key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		var got []string
		for _, a := range list {
			got = append(got, a.Name+"|"+a.Address)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	checkAddrs("From", "Dr. Zoë Ångström|zoe@clinic.example")
	checkAddrs("To", "Pat Doe|pat@home.example", "|sam@xn--bcher-kva.example")
	checkAddrs("Cc", `Lee "Nurse", RN|lee@clinic.example`)
	checkAddrs("Reply-To", "|desk@clinic.example")
	if h.Has("Bcc") || bytes.Contains(raw, []byte("audit@")) || bytes.Contains(raw, []byte("Hidden")) {
		t.Error("Bcc leaked into the message")
	}
	if got, _ := h.Subject(); got != d.Subject {
		t.Errorf("Subject = %q", got)
	}
	if got, _ := h.MessageID(); got != d.MessageID {
		t.Errorf("Message-ID = %q", got)
	}
	for k, want := range map[string]string{"Mime-Version": "1.0", "X-Case-Ref": "A-42", "List-Unsubscribe": "<mailto:unsub@clinic.example>"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got, _ := h.Text("X-Note"); got != "café" {
		t.Errorf("X-Note = %q", got)
	}

	wantStruct := "=multipart/mixed 1=multipart/alternative 1.1=text/plain 1.2=multipart/related " +
		"1.2.1=text/html 1.2.2=image/png 2=application/octet-stream 3=text/plain"
	if got := structure(t, raw); got != wantStruct {
		t.Errorf("structure\n got %s\nwant %s", got, wantStruct)
	}
	want := []readPart{
		{mediaType: "text/plain", body: []byte("Line one\r\nLine two\r\nLine three\r\nend")},
		{mediaType: "text/html", body: []byte("<p>Bonjour <img src=\"cid:logo@clinic.example\"></p>\r\n")},
		{mediaType: "image/png", disposition: "inline", filename: "logo.png", cid: "<logo@clinic.example>", body: []byte("\x89PNG")},
		{mediaType: "application/octet-stream", disposition: "attachment", filename: "compte rendu é.bin", body: allBytes()},
		{mediaType: "text/plain", disposition: "attachment", filename: "notes.txt", body: []byte("a\nb")},
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts, want %d", len(parts), len(want))
	}
	for i, w := range want {
		g := parts[i]
		if g.mediaType != w.mediaType || g.disposition != w.disposition || g.filename != w.filename || g.cid != w.cid || !bytes.Equal(g.body, w.body) {
			t.Errorf("part %d\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestWriteStructures(t *testing.T) {
	file := Attachment{Filename: "a.pdf", ContentType: "application/pdf", Content: []byte("%PDF")}
	img := Attachment{Filename: "i.png", ContentType: "image/png", Inline: true, ContentID: "i@x", Content: []byte("png")}
	tests := []struct {
		name, text, html string
		att              []Attachment
		want             string
	}{
		{"text", "t", "", nil, "=text/plain"},
		{"html", "", "h", nil, "=text/html"},
		{"both", "t", "h", nil, "=multipart/alternative 1=text/plain 2=text/html"},
		{"text and file", "t", "", []Attachment{file}, "=multipart/mixed 1=text/plain 2=application/pdf"},
		{"file only", "", "", []Attachment{file}, "=multipart/mixed 1=application/pdf"},
		{"html and image", "", "h", []Attachment{img}, "=multipart/related 1=text/html 2=image/png"},
		{"text and image", "t", "", []Attachment{img}, "=multipart/mixed 1=text/plain 2=image/png"},
		{"all", "t", "h", []Attachment{img, file}, "=multipart/mixed 1=multipart/alternative 1.1=text/plain " +
			"1.2=multipart/related 1.2.1=text/html 1.2.2=image/png 2=application/pdf"},
	}
	for _, tt := range tests {
		d := validDraft()
		d.Text, d.HTML, d.Attachments = tt.text, tt.html, tt.att
		if got := structure(t, writeDraft(t, d)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestWriteLongLines(t *testing.T) {
	d := validDraft()
	d.Subject = strings.Repeat("x", 998)
	d.Text = strings.Repeat("y", 5000) + "\n" + strings.Repeat("z ", 3000)
	d.HTML = strings.Repeat("<b>é</b>", 2000)
	d.To = nil
	for i := range 50 {
		d.To = append(d.To, Address{Name: strings.Repeat("N", 200) + strconv.Itoa(i), Addr: strings.Repeat("l", 64) + "@" + strings.Repeat("d", 60) + ".example"})
	}
	d.Headers = []Header{{"X-Long", strings.Repeat("v ", 499)}, {"X-Word", strings.Repeat("w", 900)}}
	h, parts := readMessage(t, writeDraft(t, d))
	if got, _ := h.Subject(); got != d.Subject {
		t.Error("long subject did not survive")
	}
	if list, _ := h.AddressList("To"); len(list) != 50 || list[49].Name != d.To[49].Name {
		t.Error("long recipient list did not survive")
	}
	if got := h.Get("X-Word"); got != d.Headers[1].Value {
		t.Error("long header word did not survive")
	}
	if string(parts[0].body) != strings.ReplaceAll(d.Text, "\n", "\r\n") {
		t.Error("long text did not survive")
	}
}

func TestWriteSubjects(t *testing.T) {
	for _, s := range []string{
		"Plain subject", "  leading", "trailing ", "two  spaces", "tab\there", "=?not-a-word", "100% =? sure ?=",
		"Ünïcödé", "日本語の件名" + strings.Repeat("長", 200), strings.Repeat("w", 950) + " tail", "x",
	} {
		d := validDraft()
		d.Subject = s
		raw := writeDraft(t, d)
		h, _ := readMessage(t, raw)
		if got, err := h.Subject(); err != nil || got != s {
			t.Errorf("subject %q came back as %q (%v)", s, got, err)
		}
		plain := bytes.Contains(raw, []byte("\r\nSubject: "+s+"\r\n"))
		if want := isPlainText(s); plain != want {
			t.Errorf("subject %q: written unencoded = %v, want %v", s, plain, want)
		}
	}
}

func TestWriteDeterministic(t *testing.T) {
	d := validDraft()
	d.HTML = "<p>x</p>"
	d.Date = time.Unix(1700000000, 0).UTC()
	d.MessageID = "fixed@clinic.example"
	a, b := writeDraft(t, d), writeDraft(t, d)
	if !bytes.Equal(a, b) {
		t.Error("same draft and seed gave different output")
	}
	var c bytes.Buffer
	if err := Write(&c, d); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c.Bytes()) {
		t.Error("random boundaries matched the seeded ones")
	}
}

func TestWriteDefaults(t *testing.T) {
	d := validDraft()
	before := time.Now().Truncate(time.Second)
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	h, _ := readMessage(t, buf.Bytes())
	if got, _ := h.Date(); got.Before(before) || got.After(time.Now()) {
		t.Errorf("Date = %v, want about now", got)
	}
	id, _ := h.MessageID()
	if !regexp.MustCompile(`^[a-z2-7]{20,}@clinic\.example$`).MatchString(id) {
		t.Errorf("generated Message-ID %q", id)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	d := validDraft()
	d.Subject = "x\r\nBcc: victim@evil.example"
	var buf bytes.Buffer
	err := Write(&buf, d)
	var inv *InvalidDraftError
	var fe *FieldError
	if !errors.As(err, &inv) || !errors.As(err, &fe) || fe.Field != "subject" {
		t.Fatalf("Write error = %v, want an invalid subject", err)
	}
	if strings.Contains(err.Error(), "victim") {
		t.Error("error repeats the input")
	}
	if buf.Len() != 0 {
		t.Error("Write produced output for an invalid draft")
	}
	// Size limits are the caller's policy and do not stop Write.
	d = validDraft()
	d.Subject = strings.Repeat("s ", 600)
	if err := Write(io.Discard, d); err != nil {
		t.Errorf("Write applied a size limit: %v", err)
	}
}
