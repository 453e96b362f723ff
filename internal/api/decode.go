package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sealpost/sealpost/internal/httpx"
	"github.com/sealpost/sealpost/internal/strictjson"
)

// readBody reads the whole (size-limited) body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, problem(413, "Request too large", fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
	}
	if errors.Is(err, httpx.ErrBusy) {
		return nil, problem(503, "Service unavailable", "the server is receiving too much at once; retry later")
	}
	if err != nil {
		return nil, problem(400, "Invalid request", "the request body could not be read")
	}
	return b, nil
}

// decodeJSON decodes strictly (strictjson: unknown fields, wrong types and trailing
// data are errors) and reports every bad field by its full path at once.
func decodeJSON(body []byte, v any) error {
	if ct := bytes.TrimSpace(body); len(ct) == 0 {
		return problem(400, "Invalid request", "the request body is empty; send JSON")
	}
	err := strictjson.Decode(body, v)
	if err == nil {
		return nil
	}
	var se *strictjson.Error
	if !errors.As(err, &se) {
		return problem(400, "Invalid JSON", "the request body is not valid JSON")
	}
	if se.Syntax {
		return problem(400, "Invalid JSON", se.Error())
	}
	var fields []FieldProblem
	for _, p := range se.Problems {
		fields = append(fields, FieldProblem{Field: p.Field, Detail: p.Detail})
	}
	return problem(400, "Invalid request", se.Error(), fields...)
}

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
