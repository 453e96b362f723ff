package delivery

import (
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// deadlineWriter renews the write deadline before every write, giving each
// block of DATA its own timeout (RFC 5321 4.5.3.2.5) rather than one for
// the whole message, so large messages on slow links are not cut off.
type deadlineWriter struct {
	w       io.Writer
	conn    net.Conn
	timeout time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.conn.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.w.Write(p)
}

func isReply(err error) bool {
	var serr *smtp.SMTPError
	return errors.As(err, &serr)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// validAddr rejects what would corrupt the command line: line breaks,
// angle brackets and other control characters.
func validAddr(addr string, allowEmpty bool) bool {
	if addr == "" {
		return allowEmpty
	}
	return !strings.ContainsFunc(addr, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '<' || r == '>' })
}

// domainOf returns the domain of addr for logging; addresses themselves
// are never logged.
func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return strings.ToLower(addr[at+1:])
	}
	return ""
}
