package server

import (
	"fmt"

	"github.com/sealpost/sealpost/internal/config"
)

// connectionCap sizes the API's connection cap to fit under the open-file limit,
// keeping reserved descriptors for the database, logs and outbound SMTP: a flood of
// connections must never leave SQLite unable to open its files.
func connectionCap(api config.API) (limit, conns int, err error) {
	lim, err := raiseFileLimit()
	if err != nil || lim == 0 {
		return 0, api.MaxConnections, nil // unknown here: the configured cap stands
	}
	lim = min(lim, 1<<30) // "unlimited" is a huge number
	conns = min(api.MaxConnections, int(lim)-api.ReservedFDs)
	if conns < 16 {
		return int(lim), 0, fmt.Errorf("the open-file limit is %d: with api.reserved_fds %d that leaves no room for connections; raise it (e.g. LimitNOFILE=65536) or lower api.reserved_fds", lim, api.ReservedFDs)
	}
	return int(lim), conns, nil
}
