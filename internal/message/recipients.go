package message

import "strings"

// MergeRecipients removes repeated recipients from To, Cc and Bcc so that each address
// gets one delivery and appears once in the headers. An address listed in more than
// one field stays in the most visible one (To, then Cc, then Bcc), at its first place
// there. Domains compare without regard to case; local parts compare exactly (RFC 5321
// 2.4 lets a server tell "Pat" from "pat"), or without case when ignoreLocalCase is set.
// It returns how many entries were removed.
func (d *Draft) MergeRecipients(ignoreLocalCase bool) int {
	seen := map[string]bool{}
	removed := 0
	keep := func(list []Address) []Address {
		var out []Address
		for _, a := range list {
			k := RecipientKey(a.Addr, ignoreLocalCase)
			if seen[k] {
				removed++
				continue
			}
			seen[k] = true
			out = append(out, a)
		}
		return out
	}
	d.To = keep(d.To)
	d.Cc = keep(d.Cc)
	d.Bcc = keep(d.Bcc)
	return removed
}

// RecipientKey is the form in which two addresses that reach the same mailbox are equal.
func RecipientKey(addr string, ignoreLocalCase bool) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if ignoreLocalCase {
		local = strings.ToLower(local)
	}
	return local + "@" + domain
}
