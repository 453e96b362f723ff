package archive

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// wordsByDefinition is Words as its comment defines it, written the plain way: the
// fast scanner must agree with it on every input.
func wordsByDefinition(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = strings.ToLower(w)
		if len(w) <= maxWordLen {
			out = append(out, w)
		}
	}
	return out
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{
		"", "Lab results: HbA1c 6.5%", "ÉCOLE école straße ΣΊΣΥΦΟΣ", "a\xffb\xc3", "x" + strings.Repeat("y", maxWordLen),
		strings.Repeat("z", maxWordLen), strings.Repeat("İ", 40), "١٢٣ 四五六 ｗｏｒｄ", "tab\tnew\nline\r\ncrlf", "\u0301combining",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := Words(s), wordsByDefinition(s)
		if !slices.Equal(got, want) {
			t.Fatalf("Words(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkWords(b *testing.B) {
	text := strings.Repeat("Dear Patient, your lab results from 12 March are ready: HbA1c 6.5 % — Ärztin Müller. ", 120)
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			eachWord(text, func(string) {})
		}
	})
	b.Run("definition", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			wordsByDefinition(text)
		}
	})
}
