package secureline

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/message"
)

// TestSplitMessageKeepsPHIInside builds a real message and splits it: routing and
// identity stay outside with a neutral subject; the content and the real subject go
// into the entity that will be encrypted.
func TestSplitMessageKeepsPHIInside(t *testing.T) {
	d := &message.Draft{From: message.Address{Addr: "lab@clinic.example"}, To: []message.Address{{Addr: "pat@x.org"}},
		Subject: "Your HIV result", Text: "negative", HTML: "<p>negative</p>", Date: time.Unix(1700000000, 0),
		Attachments: []message.Attachment{{Filename: "r.txt", ContentType: "text/plain", Content: []byte("result")}}}
	var b bytes.Buffer
	b.WriteString("Received: from [127.0.0.1]\r\n\tby test; Tue, 14 Nov 2023 22:13:20 +0000\r\n")
	if err := message.Write(&b, d); err != nil {
		t.Fatal(err)
	}
	outer, entity, err := splitMessage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	o := string(outer)
	for _, want := range []string{"Received: from", "From: ", "To: ", "Date: ", "Message-Id: ", "MIME-Version: 1.0", "Subject: " + NeutralSubject} {
		if !strings.Contains(strings.ToLower(o), strings.ToLower(want)) {
			t.Errorf("outer lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "HIV") || strings.Contains(strings.ToLower(o), "content-type") {
		t.Errorf("outer leaks the subject or keeps content fields:\n%s", o)
	}
	e := string(entity)
	head, body, _ := strings.Cut(e, "\r\n\r\n")
	if !strings.HasPrefix(strings.ToLower(head), "content-type: multipart/") || !strings.Contains(head, `protected-headers="v1"`) ||
		!strings.Contains(head, "Subject: Your HIV result") || !strings.Contains(body, "negative") {
		t.Errorf("entity:\n%s", e)
	}
	if _, _, err := splitMessage([]byte("no separator")); err == nil {
		t.Error("message without a body separator accepted")
	}
	if got := joinMessage(outer, entity); !bytes.HasPrefix(got, outer) || !bytes.HasSuffix(got, entity) {
		t.Error("join")
	}
}
