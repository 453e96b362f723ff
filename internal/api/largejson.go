package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
)

// A message's JSON can be tens of megabytes, nearly all of it attachment base64.
// Decoding it through json.Decoder (which strictness needs) copies the body into the
// decoder's own buffer, grown by doubling; instead the body is read once into a
// buffer of its declared length and decoded in place, and strictness is checked on a
// skeleton of it without the long strings.

// readSized reads a body of known length into one buffer of that length.
func readSized(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 {
		return readBody(r)
	}
	b := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, b); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, problem(413, "Request too large", fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
		}
		return nil, problem(400, "Invalid request", "the request body could not be read")
	}
	return b, nil
}

// decodeLargeJSON decodes body into v as strictly as decodeJSON, without copying it.
// Unknown fields and type errors are found by decoding the skeleton into a throwaway
// value of v's type; the values come from json.Unmarshal, which decodes in place. Any
// problem is reported by decodeJSON on the body itself, so the answer is exactly
// what it would have been (offsets included).
func decodeLargeJSON(body []byte, v any) error {
	shape := reflect.New(reflect.TypeOf(v).Elem()).Interface()
	if decodeJSON(skeleton(body), shape) != nil || json.Unmarshal(body, v) != nil {
		return decodeJSON(body, v)
	}
	return nil
}

// longString is the length past which a string is left out of the skeleton.
const longString = 256

// skeleton returns body with the content of every string longer than longString
// removed: the same structure, keys and types in a few hundred bytes.
func skeleton(body []byte) []byte {
	out := make([]byte, 0, min(len(body), 1<<10)) // a few hundred bytes, whatever the body's size
	for i := 0; i < len(body); {
		c := body[i]
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		end := i + 1
		for end < len(body) && body[end] != '"' {
			if body[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(body) { // unterminated: keep it, so the error stays an error
			return append(out, body[i:]...)
		}
		if end-i-1 > longString {
			out = append(out, '"', '"')
		} else {
			out = append(out, body[i:end+1]...)
		}
		i = end + 1
	}
	return out
}
