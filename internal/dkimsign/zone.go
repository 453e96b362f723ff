package dkimsign

import "strings"

// maxTXTString is the longest character-string a TXT record holds (RFC 1035 3.3: one
// length byte). Longer values, such as an RSA-2048 key, are published as several
// strings that verifiers join without separators (RFC 6376 3.6.2.2).
const maxTXTString = 255

// SplitTXT cuts a TXT value into strings of at most 255 bytes.
func SplitTXT(value string) []string {
	var out []string
	for len(value) > maxTXTString {
		out = append(out, value[:maxTXTString])
		value = value[maxTXTString:]
	}
	return append(out, value)
}

// ZoneRecord is the TXT record in zone-file syntax, ready to paste: one quoted string
// when the value fits, otherwise a parenthesised list of 255-byte strings.
func ZoneRecord(name, value string) string {
	parts := SplitTXT(value)
	for i, p := range parts {
		parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
	}
	head := strings.TrimSuffix(name, ".") + ". IN TXT "
	if len(parts) == 1 {
		return head + parts[0]
	}
	return head + "( " + strings.Join(parts, "\n\t") + " )"
}
