package devnet

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/sealpost/sealpost/internal/tlssec"
)

// traceLine is the Received field this server adds to a message it accepts
// (RFC 5321 4.4), in the form Postfix made common so that header analysers,
// ours included, can tell whether the hop was encrypted:
//
//	Received: from mail.example.com ([127.0.0.1])
//		(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)
//		by mx.example.org (Sealpost devnet) with ESMTPS id 7
//		for <bob@example.org>; Mon, 23 Nov 2026 10:00:00 +0000
func traceLine(m *Received, by string) string {
	var b strings.Builder
	b.WriteString("Received: from " + heloName(m.Helo))
	if m.Client != "" {
		b.WriteString(" (" + addressLiteral(m.Client) + ")")
	}
	if m.TLS != nil {
		fmt.Fprintf(&b, "\r\n\t(using %s with cipher %s)", tlssec.VersionName(m.TLS.Version), tls.CipherSuiteName(m.TLS.CipherSuite))
	}
	fmt.Fprintf(&b, "\r\n\tby %s (Sealpost devnet) with %s id %d", by, withProtocol(m), m.ID)
	// Only a single recipient is named: listing several would disclose the
	// others to each (RFC 5321 7.2).
	if len(m.To) == 1 {
		b.WriteString("\r\n\tfor <" + cleanHeaderText(m.To[0]) + ">")
	}
	b.WriteString(";\r\n\t" + m.At.UTC().Format(time.RFC1123Z) + "\r\n")
	return b.String()
}

// withProtocol is the RFC 3848 keyword: ESMTP, plus S when the session used
// TLS and A when the client authenticated. go-smtp does not say whether the
// greeting was HELO or EHLO; every client that delivers here (our delivery
// client, swaks) says EHLO, and STARTTLS and AUTH exist only after EHLO.
func withProtocol(m *Received) string {
	p := "ESMTP"
	if m.TLS != nil {
		p += "S"
	}
	if m.Authenticated {
		p += "A"
	}
	return p
}

// heloName is the client's greeting name made safe for a header: the name is
// remote input, so anything but the characters of a domain or an address
// literal is dropped.
func heloName(h string) string {
	h = cleanHeaderText(h)
	h = strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == ':' || r == '[' || r == ']' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return r
		}
		return -1
	}, h)
	if h == "" {
		return "unknown"
	}
	return h
}

// addressLiteral writes an IP as RFC 5321 4.1.3 does: [192.0.2.1] or
// [IPv6:2001:db8::1].
func addressLiteral(ip string) string {
	a := net.ParseIP(ip)
	switch {
	case a == nil:
		return "unknown"
	case a.To4() != nil:
		return "[" + a.String() + "]"
	}
	return "[IPv6:" + a.String() + "]"
}

// cleanHeaderText drops characters that could end or fold a header line or
// open a comment.
func cleanHeaderText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '(' || r == ')' || r == '<' || r == '>' || r == ';' {
			return -1
		}
		return r
	}, s)
}
