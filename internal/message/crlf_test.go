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
	}
	// Errors from the source are passed on and remembered as read errors.
	cr := NewCRLFReader(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(errors.New("disk"))))
	got, err := io.ReadAll(cr)
	if string(got) != "a\r\n" || err == nil || cr.ReadErr == nil {
		t.Errorf("got %q, %v, ReadErr %v", got, err, cr.ReadErr)
	}
}
