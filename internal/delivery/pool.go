package delivery

import (
	"sync"
	"time"
)

// pool keeps idle SMTP connections per host:port so that a burst of mail
// to one destination pays for TCP, TLS and EHLO once. RFC 5321 allows any
// number of transactions per session (3.3); connections are only put back
// in a clean state, after a completed transaction or an accepted RSET.
type pool struct {
	maxIdle int
	timeout time.Duration

	mu     sync.Mutex
	idle   map[string][]*conn // most recently used last
	closed bool
	wg     sync.WaitGroup // QUITs running in the background
}

func newPool(maxIdle int, timeout time.Duration) *pool {
	return &pool{maxIdle: maxIdle, timeout: timeout, idle: make(map[string][]*conn)}
}

// get takes the most recently used idle connection for key, if any. The
// most recent one is the least likely to have been timed out by the server.
func (p *pool) get(key string) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[key]
	if len(list) == 0 {
		return nil
	}
	cn := list[len(list)-1]
	p.setLocked(key, list[:len(list)-1])
	cn.timer.Stop()
	return cn
}

// put offers a clean connection for reuse. If the pool is full or closed
// the connection is shut down instead.
func (p *pool) put(cn *conn) {
	p.mu.Lock()
	if p.closed || p.maxIdle <= 0 {
		p.mu.Unlock()
		cn.quit() // synchronously: once closeAll waited, the WaitGroup is done with
		return
	}
	defer p.mu.Unlock()
	list := append(p.idle[cn.key], cn)
	if len(list) > p.maxIdle {
		p.quitLocked(list[0])
		list = list[1:]
	}
	p.idle[cn.key] = list
	cn.timer = time.AfterFunc(p.timeout, func() { p.expire(cn) })
}

// expire shuts cn down if it is still idle when its timer fires. Holding
// the lock makes this and get mutually exclusive, so a connection is never
// both handed out and closed.
func (p *pool) expire(cn *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[cn.key]
	for i, c := range list {
		if c == cn {
			p.setLocked(cn.key, append(list[:i:i], list[i+1:]...))
			p.quitLocked(cn)
			return
		}
	}
}

// closeAll shuts down every idle connection and refuses new ones. It waits
// for the QUITs so that Close returns with the sockets closed.
func (p *pool) closeAll() {
	p.mu.Lock()
	p.closed = true
	for key, list := range p.idle {
		for _, cn := range list {
			cn.timer.Stop()
			p.quitLocked(cn)
		}
		delete(p.idle, key)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *pool) setLocked(key string, list []*conn) {
	if len(list) == 0 {
		delete(p.idle, key)
		return
	}
	p.idle[key] = list
}

// quitLocked says goodbye in the background: QUIT waits for a reply, and
// nobody should wait on that while holding the lock.
func (p *pool) quitLocked(cn *conn) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		cn.quit()
	}()
}
