package devnet

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// NewSession implements smtp.Backend. go-smtp calls it after each EHLO that
// starts a session, including the fresh one after STARTTLS.
func (r *Receiver) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{r: r, conn: c}, nil
}

// session is one SMTP session; go-smtp serialises calls on it.
type session struct {
	r      *Receiver
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string {
	if len(s.r.opts.Auth) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || len(s.r.opts.Auth) == 0 {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		want, ok := s.r.opts.Auth[username]
		// Constant-time so the dev server does not teach timing attacks.
		if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 ||
			(identity != "" && identity != username) {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.r.opts.Auth) > 0 && !s.authed {
		// RFC 4954 6: "530 5.7.0 Authentication required".
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.r.acceptsDomain(domainOf(to)) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(body io.Reader) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err // includes go-smtp's 552 for oversized messages
	}
	attempts := make([]int, len(s.to))
	s.r.mu.Lock()
	for i, rcpt := range s.to {
		s.r.attempts[normAddr(rcpt)]++
		attempts[i] = s.r.attempts[normAddr(rcpt)]
	}
	s.r.mu.Unlock()

	if !s.r.opts.AllowBareLF && hasBareLineEnd(data) {
		s.r.log.Info("rejected bare CR/LF", "from_domain", domainOf(s.from))
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Bare CR or LF not allowed"}
	}
	if s.r.opts.Respond != nil {
		for i, rcpt := range s.to {
			if serr := s.r.opts.Respond(rcpt, attempts[i]); serr != nil {
				s.r.log.Info("scripted rejection", "rcpt_domain", domainOf(rcpt), "code", serr.Code)
				return serr
			}
		}
	}
	if s.r.opts.Inspect != nil {
		if serr := s.r.opts.Inspect(s.from, s.to, data); serr != nil {
			s.r.log.Info("rejected on inspection", "code", serr.Code)
			return serr
		}
	}

	m := Received{
		From:          s.from,
		To:            append([]string(nil), s.to...),
		Data:          data,
		Helo:          s.conn.Hostname(),
		At:            time.Now(),
		Authenticated: s.authed,
	}
	if a, ok := s.conn.Conn().RemoteAddr().(*net.TCPAddr); ok {
		m.Client = a.IP.String()
	}
	if st, ok := s.conn.TLSConnectionState(); ok {
		m.TLS = &st
	}
	id := s.r.store(m)
	s.r.log.Info("message accepted", "id", id, "from_domain", domainOf(s.from),
		"rcpts", len(m.To), "bytes", len(data), "tls", tlsVersion(m.TLS))
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// acceptsDomain reports whether RCPT to domain is allowed.
func (r *Receiver) acceptsDomain(domain string) bool {
	if len(r.opts.Domains) == 0 {
		return true
	}
	for _, d := range r.opts.Domains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// hasBareLineEnd reports a CR not followed by LF or an LF not preceded by
// CR; SMTP allows them only as a pair (RFC 5321 2.3.8).
func hasBareLineEnd(b []byte) bool {
	for i := bytes.IndexAny(b, "\r\n"); i >= 0; {
		if b[i] == '\n' || i+1 >= len(b) || b[i+1] != '\n' {
			return true
		}
		next := bytes.IndexAny(b[i+2:], "\r\n")
		if next < 0 {
			return false
		}
		i += 2 + next
	}
	return false
}

// domainOf returns the lower-cased domain of an address, the only part of
// an address this package logs.
func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}

// normAddr keys per-recipient counters. Only the domain is case-insensitive
// (RFC 5321 2.4), so the local part is kept as sent.
func normAddr(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	return addr[:at+1] + domainOf(addr)
}

// tlsVersion names the protocol version of st, or "none".
func tlsVersion(st *tls.ConnectionState) string {
	if st == nil {
		return "none"
	}
	return tls.VersionName(st.Version)
}
