package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/internal/message"
	"github.com/sealpost/sealpost/internal/pipeline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Problem is an RFC 9457 problem detail. Errors lists each invalid field by its JSON
// path in the request, so a client can point at what to fix.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	// OAuth endpoints also carry RFC 6749 5.2's members, which OAuth clients read.
	OAuthError       string `json:"error,omitempty"`
	OAuthDescription string `json:"error_description,omitempty"`
}

// FieldProblem names one invalid field.
type FieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string { return p.Detail }

func problem(status int, title, detail string, fields ...FieldProblem) *Problem {
	return &Problem{Type: "about:blank", Title: title, Status: status, Detail: detail, Errors: fields}
}

func badField(field, format string, a ...any) *Problem {
	d := fmt.Sprintf(format, a...)
	return problem(400, "Invalid request", field+": "+d, FieldProblem{Field: field, Detail: d})
}

var errNotFound = problem(404, "Not found", "no such object")

// toProblem maps any handler error to what the client may see. Internal details go to
// the log, never to the client.
func toProblem(err error) (p *Problem, internal bool) {
	var pe *Problem
	var pipe *pipeline.Error
	switch {
	case errors.As(err, &pe):
		return pe, false
	case errors.As(err, &pipe):
		p := problem(pipe.Status, pipe.Title, pipe.Detail)
		for _, f := range pipe.Fields {
			detail := f.Detail
			if f.Code == message.CodeTooManyRecipients {
				detail += fmt.Sprintf("; to reach more, split them over several messages sent together with POST /v1/messages/batch (up to %d messages)", maxBatch)
				if p.Detail == f.Field+": "+f.Detail {
					p.Detail = f.Field + ": " + detail
				}
			}
			p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Detail: detail})
		}
		return p, false
	case errors.As(err, new(*tenant.InvalidError)):
		return problem(422, "Invalid request", err.Error()), false
	case errors.Is(err, store.ErrNotFound):
		return errNotFound, false
	case errors.Is(err, tenant.ErrShredded):
		return problem(410, "Gone", "this account's data key was destroyed; its stored content is unreadable"), false
	case store.IsUnavailable(err):
		return problem(503, "Service unavailable", "storage is unavailable; nothing was stored; retry later"), true
	}
	return problem(500, "Internal error", "an internal error occurred; nothing about it is shown here, see the server log by request id"), true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	cp := *p
	cp.Instance = r.URL.Path
	cp.RequestID = w.Header().Get("X-Request-Id")
	if cp.Status == 401 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sealpost"`)
	}
	if cp.Status == 503 {
		w.Header().Set("Retry-After", strconv.Itoa(int(store.RetryAfter/time.Second)))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(cp.Status)
	json.NewEncoder(w).Encode(&cp)
}
