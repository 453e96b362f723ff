package received

import (
	"slices"
	"strconv"
	"strings"
)

// findTLS returns the TLS session recorded in a Received value, or nil.
// Detailed records win over a bare protocol keyword.
func findTLS(p *parsed, with string) *TLSInfo {
	var info *TLSInfo
	for _, c := range p.comments {
		if info = commentTLS(c); info != nil {
			break
		}
	}
	if info == nil {
		// Exim "(TLS1.2)" or "(TLS1.2:CIPHER:256)", Exchange 2010 "(TLS)":
		// only trusted right after the protocol.
		for _, c := range p.clauseComments("with") {
			if info = tokenTLS(c); info != nil {
				break
			}
		}
	}
	// Exim 4.93 and later: "with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384".
	if cipher := p.word("tls", 0); cipher != "" {
		if info == nil {
			info = &TLSInfo{Version: VersionNotRecorded}
		}
		if info.Cipher == "" {
			info.Cipher = cipher
		}
	}
	if info == nil {
		info = protocolTLS(with)
	}
	if info != nil && info.Verify == "" {
		info.Verify = postfixVerify(p.comments)
	}
	return info
}

// commentTLS reads the comment forms that record TLS wherever they appear:
// Postfix and Sealpost "using TLSv1.3 with cipher X (256/256 bits) ...",
// sendmail, Proofpoint, Gmail and Microsoft "version=... cipher=... bits=...",
// and Gmail's "Google Transport Security".
func commentTLS(c string) *TLSInfo {
	lower := strings.ToLower(c)
	switch {
	case strings.HasPrefix(lower, "using "):
		f := strings.Fields(c)
		info := &TLSInfo{Version: VersionNotRecorded}
		if len(f) > 1 {
			info.Version = normVersion(f[1])
		}
		for i := 2; i+1 < len(f); i++ {
			if strings.EqualFold(f[i], "cipher") && info.Cipher == "" {
				info.Cipher = f[i+1]
			}
			if strings.HasPrefix(f[i], "(") && strings.HasPrefix(f[i+1], "bits") && info.Bits == 0 {
				info.Bits = bits(strings.TrimPrefix(f[i], "("))
			}
		}
		return info
	case strings.Contains(lower, "version="):
		info := &TLSInfo{}
		for _, kv := range strings.Fields(strings.ReplaceAll(c, ",", " ")) {
			k, v, _ := strings.Cut(kv, "=")
			switch strings.ToLower(k) {
			case "version":
				info.Version = normVersion(v)
			case "cipher":
				info.Cipher = v
			case "bits":
				info.Bits = bits(v)
			case "verify":
				info.Verify = v
			}
		}
		if info.Version == "" {
			if info.Cipher == "" {
				return nil
			}
			info.Version = VersionNotRecorded
		}
		return info
	case lower == "google transport security":
		return &TLSInfo{Version: VersionNotRecorded}
	}
	return nil
}

// tokenTLS reads "TLS", "TLS1.2", "TLSv1.3" or "TLS1.2:CIPHER:256".
func tokenTLS(c string) *TLSInfo {
	if len(c) < 3 || !strings.EqualFold(c[:3], "TLS") || strings.ContainsAny(c, " ,=") {
		return nil
	}
	parts := strings.SplitN(c, ":", 3)
	info := &TLSInfo{Version: normVersion(parts[0])}
	if len(parts) > 1 {
		info.Cipher = parts[1]
	}
	if len(parts) > 2 {
		info.Bits = bits(parts[2])
	}
	return info
}

// normVersion spells a protocol version the way Postfix does: "TLSv1.2".
// sendmail's "TLSv1/SSLv3" names OpenSSL's protocol family, not a version.
func normVersion(v string) string {
	u := strings.ToUpper(strings.TrimSpace(v))
	if len(u) < 3 || u == "TLSV1/SSLV3" {
		return VersionNotRecorded
	}
	proto, rest := u[:3], strings.TrimPrefix(strings.TrimSpace(u[3:]), "V")
	rest = strings.ReplaceAll(rest, "_", ".")
	switch {
	case proto == "TLS" && (rest == "1" || rest == "1.0"):
		return "TLSv1.0"
	case proto == "TLS" && (rest == "1.1" || rest == "1.2" || rest == "1.3"):
		return "TLSv" + rest
	case proto == "SSL" && (rest == "3" || rest == "3.0"):
		return "SSLv3"
	case proto == "SSL" && (rest == "2" || rest == "2.0"):
		return "SSLv2"
	case (proto == "TLS" || proto == "SSL") && rest == "":
		return VersionNotRecorded
	}
	if len(v) > 32 {
		return VersionNotRecorded
	}
	return strings.TrimSpace(v)
}

// bits parses "256" or "256/256".
func bits(s string) int {
	s, _, _ = strings.Cut(s, "/")
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<16 {
		return 0
	}
	return n
}

// postfixVerify maps Postfix's client certificate notes onto sendmail's
// verify= words.
func postfixVerify(comments []string) string {
	for _, c := range comments {
		l := strings.ToLower(c)
		switch {
		case strings.Contains(l, "no client certificate requested"):
			return "NOT"
		case strings.Contains(l, "client did not present a certificate"):
			return "NO"
		case strings.HasPrefix(l, "client cn") && strings.Contains(l, "(verified ok)"):
			return "OK"
		case strings.HasPrefix(l, "client cn") && strings.Contains(l, "(not verified)"):
			return "FAIL"
		}
	}
	return ""
}

// isTLSProtocol reports protocol keywords that mean TLS: RFC 3848 and
// RFC 6531 names, Gmail's SMTPS and HTTPS.
func isTLSProtocol(p string) bool {
	switch strings.ToUpper(p) {
	case "ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA",
		"UTF8LMTPS", "UTF8LMTPSA", "SMTPS", "HTTPS":
		return true
	}
	return false
}

// isPlainProtocol reports protocol keywords that do not imply TLS.
func isPlainProtocol(p string) bool {
	u := strings.ToUpper(p)
	switch u {
	case "SMTP", "ESMTP", "ESMTPA", "LMTP", "LMTPA", "UTF8SMTP", "UTF8SMTPA",
		"UTF8LMTP", "UTF8LMTPA", "HTTP":
		return true
	}
	return strings.HasPrefix(u, "MICROSOFT SMTP SERVER")
}

// protocolTLS reads TLS from the with clause alone: an RFC 3848 keyword,
// Mimecast's "ESMTP with STARTTLS", or Cisco Secure Email's
// "ESMTP/TLS/AES128-SHA", which names the cipher.
func protocolTLS(with string) *TLSInfo {
	u := strings.ToUpper(with)
	switch {
	case isTLSProtocol(with):
		return &TLSInfo{Version: VersionNotRecorded}
	case slices.Contains(strings.Fields(u), "STARTTLS"):
		return &TLSInfo{Version: VersionNotRecorded}
	case strings.HasPrefix(u, "ESMTP/TLS") || strings.HasPrefix(u, "SMTP/TLS"):
		_, cipher, _ := strings.Cut(with, "/TLS")
		return &TLSInfo{Version: VersionNotRecorded, Cipher: strings.TrimPrefix(cipher, "/")}
	}
	return nil
}
