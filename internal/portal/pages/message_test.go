package pages

import (
	"slices"
	"strings"
	"testing"
)

func TestMessageText(t *testing.T) {
	msg := samples()["message text"].(Message)
	_, doc := renderPage(t, msg)
	body := bodyText(doc)
	for _, want := range []string{
		"Your lab results", "results@northside.example", "pat@example.org",
		"Mon 9 Mar 2026, 15:30 UTC",
		"This message was sent to you securely. Your reply is encrypted too.",
		"Available until Wed 8 Apr 2026, 15:30 UTC",
		"PDF document, 2.1 MB",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("message page lacks %q", want)
		}
	}
	if len(elements(doc, "iframe")) != 0 {
		t.Error("iframe shown for a plain-text message")
	}
	// The text keeps its line breaks exactly, for pre-wrap to show.
	var found bool
	for _, d := range elements(doc, "div") {
		if c, _ := attr(d, "class"); c == "body-text" && d.FirstChild != nil && d.FirstChild.Data == msg.Text {
			found = true
		}
	}
	if !found {
		t.Error("message text not rendered verbatim in .body-text")
	}
	if !hasLink(doc, "/p/AbC123/f/1", "results.pdf") || !hasLink(doc, "/p/AbC123/f/2", "notes.txt") {
		t.Error("attachment links missing")
	}
	if i, j := strings.Index(body, "Thank you."), strings.Index(body, "One more thing."); i < 0 || j < i {
		t.Error("replies missing or not oldest first")
	}
	if !strings.Contains(body, "question.pdf") {
		t.Error("reply attachment name missing")
	}

	reply := forms(doc, "/p/AbC123/reply")
	if len(reply) != 1 {
		t.Fatalf("want one reply form, got %d", len(reply))
	}
	if enc, _ := attr(reply[0], "enctype"); enc != "multipart/form-data" {
		t.Errorf("reply enctype %q", enc)
	}
	if !slices.Equal(buttons(reply[0]), []string{"Send secure reply"}) {
		t.Errorf("reply buttons %q", buttons(reply[0]))
	}
	ta := elements(reply[0], "textarea")
	if len(ta) != 1 {
		t.Fatal("no textarea")
	}
	for k, v := range map[string]string{"name": "body", "maxlength": "50000"} {
		if got, _ := attr(ta[0], k); got != v {
			t.Errorf("textarea %s=%q, want %q", k, got, v)
		}
	}
	if _, ok := attr(ta[0], "required"); !ok {
		t.Error("textarea not required")
	}
	file := byID(reply[0], "reply-files")
	if file == nil {
		t.Fatal("no file input")
	}
	if name, _ := attr(file, "name"); name != "files" {
		t.Errorf("file input name %q", name)
	}
	if _, ok := attr(file, "multiple"); !ok {
		t.Error("file input does not allow several files")
	}
	labels := map[string]string{}
	for _, l := range elements(reply[0], "label") {
		f, _ := attr(l, "for")
		labels[f] = text(l)
	}
	if labels["reply-body"] != "Your reply" || labels["reply-files"] != "Attach files (optional, up to 25 MB in all)" {
		t.Errorf("reply labels %q", labels)
	}

	headers := elements(doc, "header")
	if len(headers) != 1 {
		t.Fatal("no header")
	}
	out := forms(headers[0], "/p/AbC123/logout")
	if len(out) != 1 || !slices.Equal(buttons(out[0]), []string{"Sign out"}) {
		t.Error("no Sign out form in the header")
	}
}

func TestMessageHTML(t *testing.T) {
	_, doc := renderPage(t, samples()["message html"])
	frames := elements(doc, "iframe")
	if len(frames) != 1 {
		t.Fatalf("want one iframe, got %d", len(frames))
	}
	if src, _ := attr(frames[0], "src"); src != "/p/AbC123/m/body" {
		t.Errorf("iframe src %q", src)
	}
	if title, _ := attr(frames[0], "title"); title != "Message content" {
		t.Errorf("iframe title %q", title)
	}
	if !hasLink(doc, "/p/AbC123/m/body", "Open message content in its own tab") {
		t.Error("no link to open the content on its own")
	}
	for _, d := range elements(doc, "div") {
		if c, _ := attr(d, "class"); c == "body-text" {
			t.Error("text body shown alongside the iframe")
		}
	}
}

func TestOtherPagesHaveNoSignOut(t *testing.T) {
	for name, data := range samples() {
		if strings.HasPrefix(name, "message") {
			continue
		}
		_, doc := renderPage(t, data)
		if len(forms(doc, "/p/AbC123/logout")) != 0 {
			t.Errorf("%s page offers Sign out before the reader has signed in", name)
		}
	}
}
