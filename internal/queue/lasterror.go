package queue

import "strings"

// maxLastError bounds the reply text kept on a job for operators.
const maxLastError = 200

// lastError is the text kept in the clear on a job and in its history for operators
// (`sealpost queue list`): the remote server's reply, cut short, with the local part of
// every address masked. Receiving servers often echo the recipient ("550 5.1.1
// <pat@example.org>: user unknown"), and the address must not rest in the clear; the
// full reply stays in the sealed outcome the tenant reads.
func lastError(s string) string {
	if strings.IndexByte(s, '@') >= 0 {
		var b strings.Builder
		start := 0 // start of the current word
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '@':
				b.WriteString("…")
				start = -1 // the rest of this word is the domain: kept
				b.WriteByte(c)
			case isAddrSeparator(c):
				if start >= 0 {
					b.WriteString(s[start:i])
				}
				b.WriteByte(c)
				start = i + 1
			case start < 0:
				b.WriteByte(c)
			}
		}
		if start >= 0 && start < len(s) {
			b.WriteString(s[start:])
		}
		s = b.String()
	}
	return truncate(s, maxLastError)
}

// isAddrSeparator ends a word that may hold an address.
func isAddrSeparator(c byte) bool {
	return c == ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' || c == '[' || c == ']' || c == '\t'
}
