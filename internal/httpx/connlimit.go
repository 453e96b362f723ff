package httpx

import (
	"net"
	"sync"
	"sync/atomic"
)

// ConnLimits caps a listener's open connections.
type ConnLimits struct {
	Max       int // all clients together
	PerClient int // one client address (IPv6: one /64)
}

// LimitListener accepts at most l.Max connections at once and at most l.PerClient from
// one client. A connection beyond either cap is reset as soon as it is accepted: it
// never reaches the HTTP server, holds its descriptor for microseconds, and does not
// sit in the kernel's backlog ahead of other clients. Blocking in Accept instead would
// let a flood of queued connections be served before anyone else's.
func LimitListener(ln net.Listener, l ConnLimits) *Limited {
	return &Limited{Listener: ln, max: l.Max, per: l.PerClient, open: map[string]int{}}
}

// Limited is a listener under ConnLimits.
type Limited struct {
	net.Listener
	max, per int
	refused  atomic.Int64

	mu    sync.Mutex
	total int
	open  map[string]int
}

// Accept returns the next connection within the caps.
func (l *Limited) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		l.mu.Lock()
		if l.total >= l.max || l.open[key] >= l.per {
			l.mu.Unlock()
			l.refused.Add(1)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // reset: no TIME_WAIT, the descriptor is free at once
			}
			c.Close()
			continue
		}
		l.total++
		l.open[key]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, key: key}, nil
	}
}

// Open is the number of connections currently accepted and not yet closed.
func (l *Limited) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Refused counts connections reset for being over a cap.
func (l *Limited) Refused() int64 { return l.refused.Load() }

func (l *Limited) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

type limitedConn struct {
	net.Conn
	l    *Limited
	key  string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// clientKey is what counts as one client: the IPv4 address, or the /64 of an IPv6
// address (one host usually holds a whole /64).
func clientKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if v4 := ta.IP.To4(); v4 != nil {
		return v4.String()
	}
	return ta.IP.Mask(net.CIDRMask(64, 128)).String()
}
