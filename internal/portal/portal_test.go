package portal

import (
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/internal/pipeline"
)

func TestMaskAddress(t *testing.T) {
	for in, want := range map[string]string{
		"pat@example.org": "p•••@example.org",
		"é@example.org":   "é•••@example.org",
		"nonsense":        "your email address",
		"@example.org":    "your email address",
	} {
		if got := maskAddress(in); got != want {
			t.Errorf("maskAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// A reply's thread text is the recipient's words, without the note for the sender,
// however the message was built and parsed.
func TestReplyDraftRoundTrip(t *testing.T) {
	env := &pipeline.Envelope{From: "lab@clinic.example", MessageID: "m1@clinic.example"}
	for _, c := range []struct{ subject, want string }{{"Your results", "Re: Your results"}, {"RE: x", "RE: x"}, {"", "Re: your secure message"}} {
		d, err := replyDraft(env, env.From, c.subject, "pat@plain.example", "Line one\nLine two\n\n-- not a signature", nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Subject != c.want || d.From.Addr != "secure-reply@clinic.example" || d.To[0].Addr != "lab@clinic.example" {
			t.Errorf("draft for %q: %+v", c.subject, d)
		}
		if got := replyText(d.Text); got != "Line one\nLine two\n\n-- not a signature" {
			t.Errorf("thread text: %q", got)
		}
	}
	// A reply goes to the destination chosen for it (replyDestination), still from us.
	d, err := replyDraft(&pipeline.Envelope{From: "noreply@clinic.example", ReplyTo: "desk@clinic.example"}, "desk@clinic.example", "s", "pat@plain.example", "t", nil)
	if err != nil || d.To[0].Addr != "desk@clinic.example" || d.From.Addr != "secure-reply@clinic.example" {
		t.Errorf("reply to a noreply sender with Reply-To: %+v %v", d, err)
	}
	if _, err := replyDraft(&pipeline.Envelope{From: "broken"}, "x@x.example", "s", "p@x.example", "t", nil); err == nil {
		t.Error("a broken original sender is accepted")
	}
}

// Addresses that by convention take no mail are recognised; ordinary ones are not.
func TestCannotReceive(t *testing.T) {
	for addr, want := range map[string]bool{
		"noreply@clinic.example": true, "no-reply@clinic.example": true, "No_Reply+results@clinic.example": true,
		"do-not-reply@clinic.example": true, "donotreply@clinic.example": true, "noreply-lab@clinic.example": true,
		"mailer-daemon@clinic.example": true, "broken": true,
		"lab@clinic.example": false, "reply@clinic.example": false, "nora@clinic.example": false,
	} {
		if got := cannotReceive(addr); got != want {
			t.Errorf("cannotReceive(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	max := 90 * 24 * time.Hour
	for _, c := range []struct {
		st    Settings
		field string
	}{
		{Settings{DisplayName: "Line\nbreak"}, "display_name"},
		{Settings{ReplyMailbox: "noreply@clinic.example"}, "reply_mailbox"},
		{Settings{ReplyMailbox: "not an address"}, "reply_mailbox"},
		{Settings{Logo: "not base64!"}, "logo"},
		{Settings{DefaultExpiry: "30m"}, "default_expiry"},
		{Settings{MaxExpiry: "3000h"}, "max_expiry"},
		{Settings{Notification: &NotificationTemplate{Subject: "{{organization}}", Text: "{{link}} {{#x}}{{/x}}"}}, "notification.text"},
		{Settings{Notification: &NotificationTemplate{Subject: "a\nb", Text: "{{link}}"}}, "notification.subject"},
		{Settings{Notification: &NotificationTemplate{Subject: "s", Text: "{{link}}", HTML: "{{{secret}}}"}}, "notification.html"},
	} {
		fe := c.st.Validate(max)
		if len(fe) == 0 || fe[0].Field != c.field {
			t.Errorf("%+v: %v, want an error on %s", c.st, fe, c.field)
		}
	}
	ok := Settings{DisplayName: "Northside", DefaultExpiry: "72h", MaxExpiry: "720h",
		Notification: &NotificationTemplate{Subject: "From {{organization}}", Text: "Open {{ link }} before {{expires_at}}"}}
	if fe := ok.Validate(max); len(fe) != 0 {
		t.Errorf("valid settings refused: %v", fe[0])
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{110: "110 bytes", 2100: "2 KB", 2_100_000: "2.1 MB"} {
		if got := humanSize(n); !strings.EqualFold(got, want) {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
