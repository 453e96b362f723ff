package view

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParse checks that no input makes Parse panic or hang, and that what
// it returns keeps the promises made to the portal.
func FuzzParse(f *testing.F) {
	for _, seed := range seedMessages(f) {
		f.Add(seed)
	}
	f.Add(nested(12))
	f.Add(mixedWithFiles(f, 3))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in, Limits{MaxParts: 20, MaxDepth: 5, MaxPartBytes: 1 << 16})
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		if m == nil {
			t.Fatal("nil message without an error")
		}
		for _, s := range []string{m.From, m.To, m.Cc, m.Subject, m.MessageID} {
			if strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s) {
				t.Fatalf("header value with control characters or bad UTF-8: %q", s)
			}
		}
		if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
			t.Fatal("body is not valid UTF-8")
		}
		for i, a := range m.Attachments {
			checkFilename(t, a.Filename)
			if a.Index != i || a.Size != int64(len(a.Data)) || a.Size > 1<<16 {
				t.Fatalf("attachment %d: index %d, size %d, %d bytes", i, a.Index, a.Size, len(a.Data))
			}
		}
	})
}

// checkFilename asserts the promises of Attachment.Filename.
func checkFilename(t *testing.T, name string) {
	t.Helper()
	switch {
	case name == "":
		t.Fatal("empty file name")
	case utf8.RuneCountInString(name) > maxFilenameRunes:
		t.Fatalf("file name of %d runes", utf8.RuneCountInString(name))
	case strings.ContainsAny(name, `/\<>:"|?*`):
		t.Fatalf("file name with a path or reserved character: %q", name)
	case strings.HasPrefix(name, "."):
		t.Fatalf("hidden file name %q", name)
	case !utf8.ValidString(name):
		t.Fatalf("file name is not UTF-8: %q", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			t.Fatalf("file name with control character: %q", name)
		}
	}
}

// FuzzSanitize checks that no input yields output that could run or load
// anything, with the same structural walk as the XSS corpus.
func FuzzSanitize(f *testing.F) {
	for _, v := range xssVectors {
		f.Add(v.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		assertInert(t, Sanitize(in, func(id string) string { return "/inline/" + id }))
	})
}
