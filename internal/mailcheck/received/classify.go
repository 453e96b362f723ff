package received

import (
	"fmt"
	"net/netip"
	"strings"
)

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
	// Exchange Online Protection writes "via Frontend Transport" on the hop
	// that brings mail in from other organisations too: only a sender inside
	// the service makes it a hand-off.
	if strings.HasSuffix(strings.ToLower(f.via), "transport") && (f.rec == nil || f.rec.Own == nil || hostIn(h.From, f.rec.Own)) {
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
