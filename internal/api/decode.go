package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// readBody reads the whole (size-limited) body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, problem(413, "Request too large", fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
	}
	if err != nil {
		return nil, problem(400, "Invalid request", "the request body could not be read")
	}
	return b, nil
}

// hashingBody reads a request body once, hashing what it reads (for Idempotency-Key
// conflicts) and marking read failures so they are not mistaken for bad JSON.
type hashingBody struct {
	r io.Reader
	h hash.Hash
}

type readError struct{ err error }

func (e *readError) Error() string { return "read request body: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func newHashingBody(r io.Reader) *hashingBody { return &hashingBody{r: r, h: sha256.New()} }

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	var mbe *http.MaxBytesError
	if err != nil && err != io.EOF && !errors.As(err, &mbe) {
		err = &readError{err}
	}
	return n, err
}

// sum reads what is left of the body (nothing but whitespace once a value has been
// decoded without trailing data) and returns the hash of all of it.
func (b *hashingBody) sum() ([]byte, error) {
	if _, err := io.Copy(io.Discard, b); err != nil {
		return nil, problem(400, "Invalid request", "the request body could not be read")
	}
	return b.h.Sum(nil), nil
}

// decodeJSON decodes strictly: unknown fields and trailing data are errors, and a
// type error names the field's path.
func decodeJSON(body []byte, v any) error {
	if ct := bytes.TrimSpace(body); len(ct) == 0 {
		return problem(400, "Invalid request", "the request body is empty; send JSON")
	}
	return decodeJSONFrom(bytes.NewReader(body), v)
}

// decodeJSONFrom decodes strictly from a stream, such as a request body read once
// with no copy of it kept: for a large message the decoder's buffer is the only one.
func decodeJSONFrom(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON value")
	}
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem(413, "Request too large", fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
	}
	if errors.Is(err, io.EOF) {
		return problem(400, "Invalid request", "the request body is empty; send JSON")
	}
	var re *readError
	if errors.As(err, &re) {
		return problem(400, "Invalid request", "the request body could not be read")
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return badField(fe.field, "%s", fe.detail)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(root)"
		}
		return badField(field, "must be %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return problem(400, "Invalid JSON", fmt.Sprintf("malformed JSON at byte %d", se.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badField(f, "unknown field")
	}
	return problem(400, "Invalid JSON", "the request body is not valid JSON")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a number"
}

// fieldError lets custom UnmarshalJSON methods report a precise problem.
type fieldError struct{ field, detail string }

func (e *fieldError) Error() string { return e.field + ": " + e.detail }

// addrList accepts "a@x" or ["a@x", "B <b@y>"].
type addrList []string

func (l *addrList) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*l = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = addrList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be an address or an array of addresses")
	}
	*l = many
	return nil
}
