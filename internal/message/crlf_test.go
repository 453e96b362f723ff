package message

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCRLFReader(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                 "",
		"a":                "a",
		"a\r\nb\r\n":       "a\r\nb\r\n",
		"a\nb\n":           "a\r\nb\r\n",
		"a\rb\r":           "a\r\nb\r\n",
		"\n\n\r\r":         "\r\n\r\n\r\n\r\n",
		"a\r\r\nb":         "a\r\n\r\nb",
		"x\n.\r\nMAIL\r\n": "x\r\n.\r\nMAIL\r\n",
	}
	for in, want := range cases {
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(in),
			"onebyte": iotest.OneByteReader(strings.NewReader(in)),
			"halfway": iotest.HalfReader(strings.NewReader(in)),
		} {
			got, err := io.ReadAll(NewCRLFReader(r))
			if err != nil || string(got) != want {
				t.Errorf("%s %q: got %q, %v; want %q", name, in, got, err, want)
			}
		}
		var b strings.Builder // io.Copy takes the WriteTo path
		if n, err := io.Copy(&b, NewCRLFReader(iotest.HalfReader(strings.NewReader(in)))); err != nil || b.String() != want || n != int64(len(want)) {
			t.Errorf("WriteTo %q: got %q (%d), %v; want %q", in, b.String(), n, err, want)
		}
	}
	// Errors from the source are passed on and remembered as read errors.
	cr := NewCRLFReader(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(errors.New("disk"))))
	got, err := io.ReadAll(cr)
	if string(got) != "a\r\n" || err == nil || cr.ReadErr == nil {
		t.Errorf("got %q, %v, ReadErr %v", got, err, cr.ReadErr)
	}
	var b strings.Builder
	cr = NewCRLFReader(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(errors.New("disk"))))
	if _, err := io.Copy(&b, cr); b.String() != "a\r\n" || err == nil || cr.ReadErr == nil {
		t.Errorf("WriteTo: got %q, %v, ReadErr %v", b.String(), err, cr.ReadErr)
	}
}

// crlfReference is the byte-at-a-time rule CRLFReader must keep: a bare LF gets a
// CR before it, a bare CR an LF after it, CRLF stays.
func crlfReference(in []byte) []byte {
	var out []byte
	cr := false
	for _, b := range in {
		switch {
		case b == '\n':
			if !cr {
				out = append(out, '\r')
			}
		case cr:
			out = append(out, '\n')
		}
		out = append(out, b)
		cr = b == '\r'
	}
	if cr {
		out = append(out, '\n')
	}
	return out
}

func FuzzCRLFReader(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "\r\r\n\n", "x\ry\nz\r", strings.Repeat("line\r\n", 9000) + "\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := crlfReference(in)
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(string(in)),
			"onebyte": iotest.OneByteReader(strings.NewReader(string(in))),
			"halfway": iotest.HalfReader(strings.NewReader(string(in))),
		} {
			got, err := io.ReadAll(NewCRLFReader(r))
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s %q: got %q, %v; want %q", name, in, got, err, want)
			}
		}
		var b strings.Builder
		if _, err := io.Copy(&b, NewCRLFReader(iotest.HalfReader(strings.NewReader(string(in))))); err != nil || b.String() != string(want) {
			t.Fatalf("WriteTo %q: got %q, %v; want %q", in, b.String(), err, want)
		}
	})
}
