package store

import "strings"

// CredentialAccess is what a credential (an API key or an OAuth client) may do beyond
// its scopes: the networks it may be used from, and its own request rate.
type CredentialAccess struct {
	Networks      []string // CIDR prefixes in canonical form; empty: any network
	RatePerSecond float64  // 0: the server's default credential limit
	RateBurst     int
}

func splitNetworks(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}
