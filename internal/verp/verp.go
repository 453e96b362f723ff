// Package verp names each delivery's return path after its recipient (variable
// envelope return path: bounces+<token>@<bounce domain>), so an asynchronous DSN or a
// complaint that arrives days later maps back to the one recipient it concerns. The
// token is the recipient id and a keyed MAC of it, so a forged report cannot name an
// arbitrary recipient.
package verp

import (
	"crypto/hmac"
	"encoding/hex"
	"strings"
)

// Prefix starts every VERP local part.
const Prefix = "bounces+"

// MAC computes the keyed hash of a recipient id (the tenant's keyed hash).
type MAC func(recipientID string) []byte

// Address is the return path for one recipient's delivery.
func Address(domain, recipientID string, mac MAC) string {
	return Prefix + recipientID + "-" + hex.EncodeToString(mac(recipientID)[:6]) + "@" + domain
}

// Parse splits a VERP address of domain into the recipient id and its MAC as sent;
// ok is false when addr is not one of ours. Check the MAC with Valid.
func Parse(addr, domain string) (recipientID, tag string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], domain) {
		return "", "", false
	}
	local := addr[:at]
	if !strings.HasPrefix(strings.ToLower(local), Prefix) {
		return "", "", false
	}
	local = local[len(Prefix):]
	dash := strings.LastIndexByte(local, '-')
	if dash <= 0 {
		return "", "", false
	}
	return local[:dash], strings.ToLower(local[dash+1:]), true
}

// Valid reports whether tag is the MAC of recipientID, in constant time.
func Valid(recipientID, tag string, mac MAC) bool {
	want := hex.EncodeToString(mac(recipientID)[:6])
	return hmac.Equal([]byte(want), []byte(tag))
}
