package received

import (
	"fmt"
	"net/netip"
	"strings"
)

// Receiving software that writes TLS details into its Received fields
// whenever a session used TLS, so a missing record means plaintext.
const (
	serverPostfix    = "Postfix"
	serverExim       = "Exim"
	serverSendmail   = "sendmail"
	serverGmail      = "Gmail (mx.google.com)"
	serverMicrosoft  = "Microsoft SMTP Server"
	serverProofpoint = "Proofpoint"
	serverSealpost   = "Sealpost"
)

// recorder names the receiving software if it is known to record TLS.
// The software tags itself in a comment after the by or with clause.
func recorder(p *parsed, h Hop) string {
	for _, kw := range []string{"by", "with", "via", "id", "for", "tls"} {
		for _, cm := range p.clauseComments(kw) {
			switch {
			case cm == "Postfix" || strings.HasPrefix(cm, "Postfix,"):
				return serverPostfix
			case strings.HasPrefix(cm, "Exim "):
				return serverExim
			case cm == "PPS":
				return serverProofpoint
			case cm == "Sealpost":
				return serverSealpost
			case isSendmailVersion(cm):
				return serverSendmail
			}
		}
	}
	by := strings.ToLower(h.By)
	switch {
	case by == "mx.google.com":
		return serverGmail
	case strings.HasSuffix(by, ".pphosted.com"):
		return serverProofpoint
	case strings.HasPrefix(strings.ToUpper(h.With), "MICROSOFT SMTP SERVER"):
		return serverMicrosoft
	}
	return ""
}

// isSendmailVersion matches sendmail's "(8.17.1/8.17.1)" tag, the MTA
// version and the configuration version, optionally "/Submit".
func isSendmailVersion(c string) bool {
	mta, cf, ok := strings.Cut(c, "/")
	if !ok || !strings.HasPrefix(mta, "8.") {
		return false
	}
	cf, _, _ = strings.Cut(cf, "/")
	for _, part := range []string{mta, cf} {
		if part == "" || strings.Trim(part, "0123456789.") != "" {
			return false
		}
	}
	return true
}

// classify sets Class and Reason from the parsed hop.
func classify(h *Hop, f facts) {
	if h.TLS != nil {
		h.Class, h.Reason = Encrypted, tlsReason(h)
		return
	}
	if r := internalReason(h, f); r != "" {
		h.Class, h.Reason = Internal, r
		return
	}
	switch {
	case isPlainProtocol(h.With) && f.server != "":
		h.Class = Plaintext
		h.Reason = f.server + " records TLS when used and recorded none."
	case f.server != "" && h.With == "":
		h.Class = Unknown
		h.Reason = f.server + " recorded no protocol, so the hop cannot be judged."
	case f.server != "":
		h.Class = Unknown
		h.Reason = fmt.Sprintf("%s recorded no TLS, but the protocol %s is not one it uses for plain SMTP.", f.server, quote(h.With))
	case h.With == "":
		h.Class = Unknown
		h.Reason = "No protocol was recorded and the receiving server is not known to record TLS."
	default:
		h.Class = Unknown
		h.Reason = fmt.Sprintf("The receiving server is not known to record TLS, and the protocol %s does not say.", quote(h.With))
	}
}

func tlsReason(h *Hop) string {
	t := h.TLS
	if t.Version == VersionNotRecorded && t.Cipher == "" {
		if isTLSProtocol(h.With) {
			return fmt.Sprintf("The protocol %s means the session used TLS (RFC 3848).", quote(h.With))
		}
		return "The receiving server recorded TLS without its version."
	}
	s := "The receiving server recorded " + t.Version
	if t.Cipher != "" {
		s += " with cipher " + t.Cipher
	}
	return s + "."
}

// internalReason explains why a hop stayed inside one host or site, or
// returns "".
func internalReason(h *Hop, f facts) string {
	from := strings.ToLower(strings.TrimSuffix(h.From, "."))
	by := strings.ToLower(strings.TrimSuffix(h.By, "."))
	switch {
	case !f.hasFrom:
		return "No sending host was recorded: a local submission or an internal hand-off."
	case from == "localhost" || from == "localhost.localdomain":
		return "The message came from localhost."
	case from != "" && from == by:
		return "Sender and receiver are the same host."
	}
	if a, err := netip.ParseAddr(h.FromAddr); err == nil {
		a = a.Unmap()
		switch {
		case a.IsLoopback():
			return fmt.Sprintf("The sending address %s is loopback: a hand-off within one host.", a)
		case a.IsPrivate():
			return fmt.Sprintf("The sending address %s is private: a back channel inside one site.", a)
		case a.IsLinkLocalUnicast():
			return fmt.Sprintf("The sending address %s is link-local: a back channel inside one site.", a)
		}
	}
	if strings.HasSuffix(strings.ToLower(f.via), "transport") {
		return fmt.Sprintf("Microsoft Exchange hand-off via %s inside one organisation.", f.via)
	}
	if strings.EqualFold(h.With, "mapi") {
		return "Microsoft Exchange MAPI submission from a mailbox client."
	}
	if strings.EqualFold(h.With, "local") {
		return "Local delivery within one host."
	}
	return ""
}
