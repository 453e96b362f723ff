package view

import (
	"bytes"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// libraryQP is what mime/quotedprintable's Reader makes of src, and whether it read
// to the end without an error.
func libraryQP(src []byte) ([]byte, bool) {
	out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(src)))
	return out, err == nil
}

// TestDecodeQPMatchesTheLibrary: on inputs made of the bytes that matter to
// quoted-printable (escapes, hex digits of both cases, white space, line ends, bytes
// the library refuses or passes through), decodeQP either gives up or gives exactly
// the library's output, and it gives up wherever the library fails.
func TestDecodeQPMatchesTheLibrary(t *testing.T) {
	alphabet := []byte("=A3fg \t\r\nx\x80\x01~\x7f")
	rng := rand.New(rand.NewPCG(1, 2))
	decoded := 0
	for range 200000 {
		src := make([]byte, rng.IntN(24))
		for i := range src {
			src[i] = alphabet[rng.IntN(len(alphabet))]
		}
		fast, ok := decodeQP(src)
		lib, libOK := libraryQP(src)
		if ok && !libOK {
			t.Fatalf("%q: decoded to %q where the library fails", src, fast)
		}
		if ok && !bytes.Equal(fast, lib) {
			t.Fatalf("%q: decoded to %q, the library to %q", src, fast, lib)
		}
		if ok {
			decoded++
		}
	}
	if decoded < 50000 {
		t.Errorf("only %d of the inputs decoded without the library", decoded)
	}
}

// TestDecodeQPTakesWhatEncodersWrite: text written by the library's encoder (long
// lines folded with soft breaks, escapes, CRLF and LF line ends) decodes in one pass
// to what was written; lines longer than the library's buffer are left to it.
func TestDecodeQPTakesWhatEncodersWrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 300 {
		plain := make([]byte, rng.IntN(3000))
		const letters = "abc xyz=\t\r\n\u00e9.,;"
		for i := range plain {
			plain[i] = letters[rng.IntN(len(letters))]
		}
		var enc bytes.Buffer
		w := quotedprintable.NewWriter(&enc)
		w.Binary = n%2 == 0
		w.Write(plain)
		w.Close()
		got, ok := decodeQP(enc.Bytes())
		lib, _ := libraryQP(enc.Bytes())
		if !ok || !bytes.Equal(got, lib) {
			t.Fatalf("encoder output not decoded alike (ok %v)", ok)
		}
	}
	long := bytes.Repeat([]byte("a"), qpReaderBuffer+10)
	if _, ok := decodeQP(long); ok {
		t.Error("a line longer than the library's buffer was decoded without it")
	}
	if _, ok := decodeQP(append(bytes.Repeat([]byte("a"), qpReaderBuffer-1), '\n')); !ok {
		t.Error("a line that fits the library's buffer was left to it")
	}
}

// TestQuotedPrintablePartsReadAlike: a message's quoted-printable text reads the same
// through the one-pass decoder as through the library alone, broken encodings
// included.
func TestQuotedPrintablePartsReadAlike(t *testing.T) {
	for _, body := range []string{
		"caf=C3=A9 au lait=\r\nsoft break and a literal = sign\r\nend  \r\n",
		"bad escape =ZZ and =4\r\nthen = at the end=",
		"a lone \x01 control byte stops the library\r\nafter it\r\n",
		"<p>html=20with =3D signs</p>=\n<p>and LF ends</p>\n",
	} {
		for _, ctype := range []string{"text/plain; charset=utf-8", "text/html; charset=utf-8"} {
			raw := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\nContent-Type: " + ctype +
				"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + body)
			fast, err := Parse(raw, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			fastQP = false
			lib, err := Parse(raw, Limits{})
			fastQP = true
			if err != nil {
				t.Fatal(err)
			}
			if fast.Text != lib.Text || fast.HTML != lib.HTML || fast.Incomplete != lib.Incomplete {
				t.Errorf("%s %q: read as %q / %q, the library alone gives %q / %q", ctype, body, fast.Text, fast.HTML, lib.Text, lib.HTML)
			}
		}
	}
}

// BenchmarkParseQuotedPrintable reads a 10 KiB quoted-printable text message, with the
// one-pass decoder and with the library's reader alone.
func BenchmarkParseQuotedPrintable(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	letters := []rune("abcdefghij klmnop qrstuv wxyz \u00e9=.,;\n")
	var text strings.Builder
	for text.Len() < 10<<10 {
		text.WriteRune(letters[rng.IntN(len(letters))])
	}
	plain := []byte(strings.ReplaceAll(text.String(), "\n", "\r\n"))
	var body bytes.Buffer
	w := quotedprintable.NewWriter(&body)
	w.Write(plain)
	w.Close()
	raw := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + body.String())
	for _, fast := range []bool{true, false} {
		name := "library"
		if fast {
			name = "one-pass"
		}
		b.Run(name, func(b *testing.B) {
			fastQP = fast
			defer func() { fastQP = true }()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := Parse(raw, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNormalizeNewlines: CRLF and lone CR become LF, as replacing the one and then
// the other does.
func TestNormalizeNewlines(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 50000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = "\r\nab"[rng.IntN(4)]
		}
		s := string(b)
		want := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		if got := normalizeNewlines(s); got != want {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	}
}
