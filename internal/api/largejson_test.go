package api

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeLargeJSON: decoding in place answers exactly what the strict decoder
// answers, for good bodies and bad, with long strings anywhere.
func TestDecodeLargeJSON(t *testing.T) {
	long := strings.Repeat("x", 5000)
	b64 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("report ", 1000)))
	escaped := strings.ReplaceAll(b64, "/", `\/`) + `\n`
	for _, body := range []string{
		`{"from":"a@b.example","to":"c@d.example","text":"` + long + `","attachments":[{"filename":"r.pdf","content":"` + b64 + `"}]}`,
		`{"from":"a@b.example","attachments":[{"filename":"r.pdf","content":"` + escaped + `"}]}`,
		`{"from":"a@b.example","attachments":[{"filename":"r.pdf","content":"` + long + `!"}]}`, // bad base64
		`{"text":"` + long + `","nope":1}`,                                               // unknown field after a long string
		`{"text":"` + long + `","attachments":[{"content":"` + b64 + `","extra":true}]}`, // unknown nested field
		`{"to":5,"text":"` + long + `"}`,                                                 // type error
		`{"attachments":[{"content":7}]}`,                                                // type error in content
		`{"text":"` + long + `",}`,                                                       // syntax error after a long string
		`{"text":"` + long + `\q"}`,                                                      // bad escape inside a long string
		`{"text":"` + long,                                                               // unterminated
		`{"text":"t"} {"text":"u"}`,                                                      // trailing data
		``, `   `,
	} {
		var want, got SendRequest
		werr := decodeJSON([]byte(body), &want)
		gerr := decodeLargeJSON([]byte(body), &got)
		name := body[:min(len(body), 60)]
		if !reflect.DeepEqual(werr, gerr) {
			t.Errorf("%s…: error %v, want %v", name, gerr, werr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Errorf("%s…: decoded differently", name)
		}
	}
}
