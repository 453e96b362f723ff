package httpx

import (
	"net"
	"testing"
	"time"
)

// TestLimitListenerCapsGlobalAndPerClient holds connections from loopback addresses
// and checks which ones the listener keeps and which it resets at once.
func TestLimitListenerCapsGlobalAndPerClient(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitListener(raw, ConnLimits{Max: 3, PerClient: 2})
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			return nil // reset before the dial returned
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// kept: the server holds the connection open (a read sees nothing); otherwise
	// it was reset (a read fails at once).
	kept := func(c net.Conn) bool {
		if c == nil {
			return false
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		ne, ok := err.(net.Error)
		return ok && ne.Timeout()
	}
	a1, a2, a3 := dial("127.0.0.1"), dial("127.0.0.1"), dial("127.0.0.1")
	if !kept(a1) || !kept(a2) {
		t.Fatal("connections within the per-client cap were refused")
	}
	if kept(a3) {
		t.Fatal("a third connection from one client was kept (per-client cap 2)")
	}
	b1 := dial("127.0.0.2")
	if !kept(b1) {
		t.Fatal("another client was refused below the global cap")
	}
	if c1 := dial("127.0.0.3"); kept(c1) {
		t.Fatal("a fourth connection was kept (global cap 3)")
	}
	if ln.Open() != 3 || ln.Refused() != 2 {
		t.Fatalf("open %d refused %d, want 3 and 2", ln.Open(), ln.Refused())
	}
	// A closed connection frees its slots, globally and for its client.
	(<-accepted).Close()
	deadline := time.Now().Add(2 * time.Second)
	for ln.Open() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c := dial("127.0.0.3"); !kept(c) {
		t.Fatal("a slot freed by a closed connection was not reused")
	}
}

func TestClientKeyGroupsIPv6By64(t *testing.T) {
	a := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2::1")})
	b := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::9")})
	c := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1")})
	if a != b || a == c {
		t.Fatalf("keys %q %q %q", a, b, c)
	}
	if k := clientKey(&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7")}); k != "192.0.2.7" {
		t.Fatalf("mapped IPv4 key %q", k)
	}
}
