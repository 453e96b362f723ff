package storetest

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // LockSQLite opens the file itself
)

// Proxy is a loopback TCP proxy in front of the PostgreSQL server, so a test can make
// the database unreachable — and reachable again — without touching the server others
// share.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]bool
	stalled bool
}

// ProxyURL starts a proxy to the database behind dbURL (a postgres:// URL) and returns
// it with the URL that goes through it.
func ProxyURL(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: u.Host, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	u.Host = p.addr
	return p, u.String()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *Proxy) pipe(c net.Conn) {
	p.mu.Lock()
	if p.stalled { // accepted, never answered: held until the next Cut or Restore
		p.conns[c] = true
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close(); c.Close() }()
	io.Copy(c, up)
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// Cut makes the database unreachable: open connections are reset and new ones are
// refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, as when a server's host goes away
		}
		c.Close()
	}
	clear(p.conns)
}

// Stall makes the database silent: open connections are reset, and new ones are
// accepted but never answered, as when packets to its host are dropped.
func (p *Proxy) Stall() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	p.Cut()
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", p.addr); err != nil {
			p.t.Fatalf("proxy stall: %v", err)
		}
	}
	p.serve(ln)
}

// Restore makes the database reachable again on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.Cut()
	p.mu.Lock()
	p.stalled = false
	p.mu.Unlock()
	var ln net.Listener
	var err error
	for range 50 { // the port was just ours; retry briefly if the kernel holds it
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy restore: %v", err)
	}
	p.serve(ln)
}

// LockSQLite holds the write lock of the SQLite database behind dbURL from another
// connection, as a backup tool or a shell left in a transaction would, until release
// is called. Writers of the database then wait out their busy timeout and fail.
func LockSQLite(t testing.TB, dbURL string) (release func()) {
	t.Helper()
	path := strings.TrimPrefix(dbURL, "sqlite:")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("lock sqlite: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}
