package delivery

import (
	"errors"
	"io"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestSMTPErrorMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err      error
		temp     bool
		code     int
		enhanced string
		msg      string
	}{
		{&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no\r\nsuch user"}, false, 550, "5.1.1", "no such user"},
		{&smtp.SMTPError{Code: 452, Message: "4.2.2 mailbox full\n4.2.2 try later"}, true, 452, "4.2.2", "mailbox full try later"},
		{&smtp.SMTPError{Code: 554, Message: "first line\n5.7.1 policy"}, false, 554, "5.7.1", "first line policy"},
		{&smtp.SMTPError{Code: 421, Message: "5.0.0 wrong class kept"}, true, 421, "", "5.0.0 wrong class kept"},
		{io.ErrUnexpectedEOF, true, 0, "4.4.2", "unexpected EOF"},
	}
	for _, c := range cases {
		e := smtpError(StageRcpt, "mx.test", c.err)
		if e.Temporary != c.temp || e.Code != c.code || e.Enhanced != c.enhanced || e.Message != c.msg || e.Stage != StageRcpt {
			t.Errorf("%v: got %+v", c.err, e)
		}
		if !errors.Is(e, c.err) {
			t.Errorf("%v: not unwrappable", c.err)
		}
	}
	e := smtpError(StageData, "mx.test", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "spam"})
	if got := e.Error(); got != "delivery: data at mx.test: 550 5.7.1 spam" {
		t.Errorf("Error() = %q", got)
	}
}

func TestRecipientDomain(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"a@Example.COM.":   "example.com",
		"a@b@c.test":       "c.test",
		"a@bücher.example": "xn--bcher-kva.example",
		"a@[127.0.0.1]":    "[127.0.0.1]",
		"a@":               "",
		"@b.test":          "",
		"nodomain":         "",
	}
	for in, want := range cases {
		got, ok := recipientDomain(in)
		if got != want || ok != (want != "") {
			t.Errorf("recipientDomain(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestValidAddr(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"a@b.test":             true,
		"\"odd local\"@b.test": true,
		"":                     false,
		"a@b.test>":            false,
		"a@b\r\nDATA":          false,
		"a\x00@b.test":         false,
	} {
		if got := validAddr(addr, false); got != want {
			t.Errorf("validAddr(%q) = %v", addr, got)
		}
	}
	if !validAddr("", true) {
		t.Error("null sender rejected")
	}
}
