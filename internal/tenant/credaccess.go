package tenant

import (
	"fmt"
	"net/netip"

	"github.com/sealpost/sealpost/internal/store"
)

// Bounds on a credential's own rules: enough for any integration, small enough that a
// list is checked on every request at no measurable cost.
const (
	MaxAllowedNetworks = 64
	MaxRatePerSecond   = 100_000
	MaxRateBurst       = 1_000_000
)

// FieldError is one problem with one field of a request, named by its path.
type FieldError struct{ Field, Msg string }

// CheckAccess validates a credential's networks and rate limit and returns them in
// canonical form (a bare address becomes a /32 or /128; host bits are cleared), with
// every problem found, each named by its path in a creation request.
func CheckAccess(a store.CredentialAccess) (store.CredentialAccess, []FieldError) {
	var errs []FieldError
	out := store.CredentialAccess{RatePerSecond: a.RatePerSecond, RateBurst: a.RateBurst}
	if len(a.Networks) > MaxAllowedNetworks {
		errs = append(errs, FieldError{"allowed_networks", fmt.Sprintf("at most %d networks", MaxAllowedNetworks)})
	}
	seen := map[netip.Prefix]bool{}
	for i, n := range a.Networks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			if ip, err2 := netip.ParseAddr(n); err2 == nil && ip.Zone() == "" {
				p = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
				err = nil
			}
		}
		if err != nil {
			errs = append(errs, FieldError{fmt.Sprintf("allowed_networks[%d]", i), "not a CIDR network such as 10.0.0.0/8 or 2001:db8::/32"})
			continue
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				errs = append(errs, FieldError{fmt.Sprintf("allowed_networks[%d]", i), "an IPv4-mapped network needs a prefix length of at least 96"})
				continue
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out.Networks = append(out.Networks, p.String())
		}
	}
	if a.RatePerSecond != 0 || a.RateBurst != 0 {
		if !(a.RatePerSecond > 0 && a.RatePerSecond <= MaxRatePerSecond) {
			errs = append(errs, FieldError{"rate_limit.per_second", fmt.Sprintf("must be above 0 and at most %d", MaxRatePerSecond)})
		}
		if a.RateBurst < 1 || a.RateBurst > MaxRateBurst {
			errs = append(errs, FieldError{"rate_limit.burst", fmt.Sprintf("must be between 1 and %d", MaxRateBurst)})
		}
	}
	return out, errs
}

// CheckAccessError is CheckAccess for services (API keys, OAuth clients): the first
// problem as an InvalidError of the form "field: detail".
func CheckAccessError(a store.CredentialAccess) (store.CredentialAccess, error) {
	out, errs := CheckAccess(a)
	if len(errs) > 0 {
		return out, &InvalidError{Msg: errs[0].Field + ": " + errs[0].Msg}
	}
	return out, nil
}

// Access is a credential's rules, ready to check on every request.
type Access struct {
	restricted    bool
	networks      []netip.Prefix
	RatePerSecond float64 // 0: the default credential limit
	RateBurst     int
}

// AccessOf prepares stored rules. A stored network that no longer parses matches
// nothing, so a damaged list refuses rather than opens.
func AccessOf(a store.CredentialAccess) Access {
	out := Access{restricted: len(a.Networks) > 0, RatePerSecond: a.RatePerSecond, RateBurst: a.RateBurst}
	for _, n := range a.Networks {
		if p, err := netip.ParsePrefix(n); err == nil {
			out.networks = append(out.networks, p)
		}
	}
	return out
}

// AllowsAddr reports whether a request from addr (an IP address, as in RemoteAddr
// without the port) may use the credential.
func (a Access) AllowsAddr(addr string) bool {
	if !a.restricted {
		return true
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range a.networks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Restricted reports whether the credential has a network allowlist.
func (a Access) Restricted() bool { return a.restricted }
