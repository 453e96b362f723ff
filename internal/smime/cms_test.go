package smime

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestAESKeyWrap uses the vectors of RFC 3394 4.1 and 4.6.
func TestAESKeyWrap(t *testing.T) {
	t.Parallel()
	test := func(kek, key, want string) {
		t.Helper()
		got, err := aesKeyWrap(unhex(t, kek), unhex(t, key))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != strings.ToLower(want) {
			t.Fatalf("wrap = %x, want %s", got, want)
		}
	}
	test("000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
		"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
	test("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
		"00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
		"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")
	if _, err := aesKeyWrap(make([]byte, 32), make([]byte, 12)); err == nil {
		t.Fatal("wrapped a key that is not a multiple of 8 bytes")
	}
}

func TestCanonicalCRLF(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a\r\nb\r\n":   "a\r\nb\r\n",
		"a\nb\n":       "a\r\nb\r\n",
		"a\rb":         "a\r\nb",
		"a\r\n\nb\r":   "a\r\n\r\nb\r\n",
		"\n":           "\r\n",
		"no line end":  "no line end",
		"mixed\r\nx\n": "mixed\r\nx\r\n",
	} {
		if got := string(canonicalCRLF([]byte(in))); got != want {
			t.Errorf("canonicalCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestP7MEntityLines(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 56, 57, 58, 114, 1000} {
		out := p7mEntity("enveloped-data", make([]byte, n))
		_, body, _ := strings.Cut(string(out), "\r\n\r\n")
		if !strings.HasSuffix(body, "\r\n") {
			t.Fatalf("%d bytes: body does not end in CRLF", n)
		}
		lines := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > lineLen || (i < len(lines)-1 && len(l) != lineLen) {
				t.Fatalf("%d bytes: line %d has %d characters", n, i, len(l))
			}
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
