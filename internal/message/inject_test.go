package message

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// benign and hostile are the fragments random values are built from; the
// hostile ones are raw and encoded line breaks, header syntax and
// encoded-word delimiters.
var benign = [...]string{
	"a", "Z", "0", " ", "  ", "\t", ":", ";", ",", "<", ">", "\"", "\\", ".", "@", "(", ")", "=", "?", "_",
	"é", "日本", "Dr.", "O'Brien", strings.Repeat("w", 80), "=?utf-8?q?ok?=", "=?utf-8?b?w6k=?=",
}

var hostile = [...]string{
	"\r", "\n", "\r\n", "\x00",
	"Bcc: evil@attacker.example", "\r\nBcc: evil@attacker.example", "\nX-Injected: 1",
	"=?", "?=", "=?utf-8?q?", "=?utf-8?b?", "=0D=0A", "=0A", "DQo=", "Cg==",
	"=?utf-8?q?=0D=0ABcc:_evil@attacker.example?=", "=?utf-8?b?DQpCY2M6IGV2aWxAYXR0YWNrZXIuZXhhbXBsZQ==?=",
	"=?iso-8859-1?q?=0A?=", "=?utf-8?q?ok?=", "=?utf-8?q?=3D=3Futf-8=3Fq=3F=0A=3F=3D?=",
	"\u202e", "\x01",
}

func randomValue(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(10) {
		if r.IntN(40) == 0 {
			b.WriteString(hostile[r.IntN(len(hostile))])
		} else {
			b.WriteString(benign[r.IntN(len(benign))])
		}
	}
	return b.String()
}

func TestHeaderInjectionProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	accepted, rejected := 0, 0
	for range 3000 {
		d := validDraft()
		d.Subject = randomValue(r)
		d.From.Name = randomValue(r)
		d.To[0].Name = randomValue(r)
		d.Headers = []Header{{"X-Tag", randomValue(r)}}
		d.Attachments = []Attachment{{Filename: "f" + randomValue(r), Content: []byte("x")}}
		if len(d.Validate(DefaultLimits())) > 0 {
			rejected++
			continue
		}
		accepted++
		checkReparsed(t, d, writeDraft(t, d))
	}
	t.Logf("accepted %d, rejected %d", accepted, rejected)
	// Both outcomes must have been exercised for the property to mean much.
	if accepted < 100 || rejected < 100 {
		t.Fatalf("accepted %d, rejected %d: generator is unbalanced", accepted, rejected)
	}
}

func TestHeaderInjectionKnownVectors(t *testing.T) {
	vectors := []string{
		"x\r\nBcc: evil@attacker.example",
		"x\nBcc: evil@attacker.example",
		"x\rBcc: evil@attacker.example",
		"x\x00Bcc: evil@attacker.example",
		"=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?=",
		"=?utf-8?b?eA0KQmNjOiBldmlsQGF0dGFja2VyLmV4YW1wbGU=?=",
		"=?iso-8859-1?q?x=0ABcc:_evil@attacker.example?=",
		"=?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3D0ABcc:_evil=3F=3D?=",
	}
	for _, v := range vectors {
		for _, set := range []func(d *Draft){
			func(d *Draft) { d.Subject = v },
			func(d *Draft) { d.To[0].Name = v },
			func(d *Draft) { d.From.Name = v },
			func(d *Draft) { d.Headers = []Header{{"X-Tag", v}} },
			func(d *Draft) { d.Attachments = []Attachment{{Filename: v}} },
		} {
			d := validDraft()
			set(d)
			if len(d.Validate(DefaultLimits())) == 0 {
				t.Errorf("Validate accepted %q", v)
			}
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"a@b.example", "Jane Doe <jane@b.example>", `"Doe, Jane" <j@b.example>`, "<a@b.example>",
		"a\r\nBcc: x@y.example", "=?utf-8?q?J=C3=B6rg?= <j@bücher.example>", "a@xn--bcher-kva.example",
		`"a\"b\\" <a@b.example>`, "a\x00@b.example", "@", "<>", `"`, "=?utf-8?b?DQo=?= <a@b.example>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if a != (Address{}) {
				t.Fatal("error with a non-zero address")
			}
			return
		}
		if checkText(a.Name) != "" || checkText(a.Addr) != "" {
			t.Fatalf("accepted address carries forbidden characters: %+v", a)
		}
		if norm, det := normalizeAddrSpec(a.Addr); det != "" || norm != a.Addr {
			t.Fatalf("Addr %q is not normalised (%q, %s)", a.Addr, norm, det)
		}
		out := a.String()
		if out == "" || checkText(out) != "" {
			t.Fatalf("String() = %q", out)
		}
		b, err := ParseAddress(out)
		if err != nil || b != a {
			t.Fatalf("String() %q re-parsed as %+v (%v), want %+v", out, b, err, a)
		}
	})
}

func FuzzWrite(f *testing.F) {
	f.Add("Subject", "Clinic", "Pat", "X-Tag", "value", "text\n", "<p>html</p>", "a.pdf", []byte{0, 1, 255}, false)
	f.Add("Résumé  ", "Zoë", "", "List-Unsubscribe", "<mailto:u@x.example>", "", "h", "é é.txt", []byte("x"), true)
	f.Add("=?utf-8?q?a=0D=0Ab?=", "a\r\nb", "=?utf-8?b?w6k=?=", "Bcc", "x\ny", "\r\r\n", "", "../x", []byte(nil), false)
	f.Add("  two  spaces  ", "\"q\"", "Dr. X", "X-A", "  padded  ", "t", "", "", []byte(nil), true)
	f.Fuzz(func(t *testing.T, subject, fromName, toName, hdrName, hdrValue, text, html, filename string, content []byte, inline bool) {
		d := &Draft{
			From:      Address{Name: fromName, Addr: "sender@clinic.example"},
			To:        []Address{{Name: toName, Addr: "pat@home.example"}},
			Subject:   subject,
			Text:      text,
			HTML:      html,
			Headers:   []Header{{hdrName, hdrValue}},
			MessageID: "fuzz@clinic.example",
		}
		if filename != "" || content != nil {
			d.Attachments = []Attachment{{Filename: filename, Content: content, Inline: inline, ContentID: "c@x"}}
		}
		if len(d.Validate(DefaultLimits())) > 0 {
			return
		}
		var buf bytes.Buffer
		if err := WriteWithOptions(&buf, d, WriteOptions{BoundarySeed: []byte("fuzz")}); err != nil {
			t.Fatalf("Write failed on a valid draft: %v", err)
		}
		raw := buf.Bytes()
		checkLines(t, raw)
		checkReparsed(t, d, raw)
		if text != "" {
			_, parts := readMessage(t, raw)
			if !bytes.Equal(parts[0].body, crlf(text)) {
				t.Fatalf("text body came back as %q", parts[0].body)
			}
		}
	})
}
