package cli

import (
	"flag"
	"strconv"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

// networkList is a repeatable --allow-network flag; each value may also hold several
// networks separated by commas.
type networkList []string

func (n *networkList) String() string { return strings.Join(*n, ",") }

func (n *networkList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*n = append(*n, s)
		}
	}
	return nil
}

// accessFlags adds the flags of a credential's own networks and rate limit; the
// returned function reads them once parsed. The service validates them, as it does
// for the API.
func accessFlags(fs *flag.FlagSet) func() store.CredentialAccess {
	var nets networkList
	fs.Var(&nets, "allow-network", "accept the credential only from this CIDR network (10.0.0.0/8, 2001:db8::/32); repeat for several; default any")
	rate := fs.Float64("rate-per-second", 0, "the credential's own sustained request limit, instead of the server's default (needs --rate-burst)")
	burst := fs.Int("rate-burst", 0, "the credential's own burst: requests allowed at once (needs --rate-per-second)")
	return func() store.CredentialAccess {
		return store.CredentialAccess{Networks: nets, RatePerSecond: *rate, RateBurst: *burst}
	}
}

// accessColumns renders a credential's rules for list tables.
func accessColumns(a store.CredentialAccess) (networks, limit string) {
	networks, limit = "any", "default"
	if len(a.Networks) > 0 {
		networks = strings.Join(a.Networks, ",")
	}
	if a.RatePerSecond > 0 {
		limit = strconv.FormatFloat(a.RatePerSecond, 'g', -1, 64) + "/s burst " + strconv.Itoa(a.RateBurst)
	}
	return networks, limit
}
