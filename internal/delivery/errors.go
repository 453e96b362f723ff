package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
)

// Stages at which a delivery can fail; Error.Stage holds one of them.
const (
	StageDNS     = "dns"
	StageConnect = "connect"
	StageTLS     = "tls"
	StageHelo    = "helo"
	StageAuth    = "auth"
	StageMail    = "mail"
	StageRcpt    = "rcpt"
	StageData    = "data"
)

// Error describes a failed delivery. Temporary errors should be retried
// later; permanent ones should produce a bounce.
type Error struct {
	Temporary bool
	Code      int    // SMTP reply code, 0 when no server replied
	Enhanced  string // enhanced status code (RFC 3463), e.g. "4.7.0"
	Message   string // server text or our description, one line
	Stage     string // one of the Stage constants
	MX        string // host being talked to, if any
	Err       error  // underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("delivery: ")
	b.WriteString(e.Stage)
	if e.MX != "" {
		b.WriteString(" at ")
		b.WriteString(e.MX)
	}
	b.WriteString(": ")
	if e.Code != 0 {
		fmt.Fprintf(&b, "%d ", e.Code)
	}
	if e.Enhanced != "" {
		b.WriteString(e.Enhanced)
		b.WriteByte(' ')
	}
	b.WriteString(e.Message)
	if e.Message == "" && e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return strings.TrimSpace(b.String())
}

func (e *Error) Unwrap() error { return e.Err }

// oneLine keeps remote text safe to store and log-adjacent: no CR/LF, no
// control characters, trimmed.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// smtpError converts err from the SMTP conversation at stage into an
// *Error. Replies keep their code; 4xx is temporary and 5xx permanent
// (RFC 5321 4.2.1). Anything that is not a reply (network trouble,
// timeouts, a cancelled context) is temporary: the message may well go
// through on another try.
func smtpError(stage, mx string, err error) *Error {
	var serr *smtp.SMTPError
	if errors.As(err, &serr) {
		e := &Error{
			Temporary: serr.Code/100 != 5,
			Code:      serr.Code,
			Stage:     stage,
			MX:        mx,
			Err:       err,
		}
		ec, msg := serr.EnhancedCode, serr.Message
		if ec != smtp.EnhancedCodeNotSet && ec != smtp.NoEnhancedCode {
			e.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
		} else {
			e.Enhanced, msg = findEnhanced(serr.Code, msg)
		}
		e.Message = oneLine(msg)
		return e
	}
	e := &Error{Temporary: true, Stage: stage, MX: mx, Err: err, Message: oneLine(err.Error())}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Enhanced = "4.4.7" // RFC 3463 X.4.7: delivery time expired
	case stage == StageConnect:
		e.Enhanced = "4.4.1" // RFC 3463 X.4.1: no answer from host
	default:
		e.Enhanced = "4.4.2" // RFC 3463 X.4.2: bad connection
	}
	return e
}

// findEnhanced looks for the enhanced status code at the start of the
// reply's lines (RFC 2034 4 puts it on every line; some servers put it only
// on the last, where go-smtp does not look) and strips it from them.
func findEnhanced(code int, msg string) (string, string) {
	lines := strings.Split(msg, "\n")
	found := ""
	for i, l := range lines {
		l = strings.TrimLeft(l, " ")
		tok, rest, _ := strings.Cut(l, " ")
		if !isEnhanced(tok, code) || (found != "" && tok != found) {
			continue
		}
		found, lines[i] = tok, rest
	}
	return found, strings.Join(lines, "\n")
}

// isEnhanced reports whether tok is "class.subject.detail" (RFC 3463 2)
// with the class matching the reply code.
func isEnhanced(tok string, code int) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(code/100) {
		return false
	}
	for _, p := range parts[1:] {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 999 {
			return false
		}
	}
	return true
}

// errorSet collects the per-host failures of one delivery and picks the one
// to report.
type errorSet struct {
	first, firstTemp *Error
}

func (s *errorSet) add(e *Error) {
	if s.first == nil {
		s.first = e
	}
	if e.Temporary && s.firstTemp == nil {
		s.firstTemp = e
	}
}

// result reports a temporary error if any host failed temporarily: one
// host being unreachable for now must not bounce a message another attempt
// could deliver. Among equals, the most preferred host's error is the one
// its operator would want to see.
func (s *errorSet) result() *Error {
	if s.firstTemp != nil {
		return s.firstTemp
	}
	if s.first != nil {
		return s.first
	}
	return &Error{Temporary: true, Stage: StageConnect, Enhanced: "4.4.1", Message: "no usable mail exchanger"}
}
