package delivery

import (
	"context"
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
	// opening counts connections being opened per key, and changed is closed (and
	// dropped) when a connection for the key is pooled or an opening ends: what a
	// delivery waiting in take waits for.
	opening map[string]int
	changed map[string]chan struct{}
}

// maxOpening bounds the connections being opened to one host at once. A burst of
// mail to one destination would otherwise open a connection per message, a TLS
// handshake each on both sides, although most could wait a moment for one of
// the first few to come back idle: many fewer connections, and no spike of
// handshakes starving everything else on the machine. openWait bounds that
// wait, so a host that accepts connections slowly, or not at all, costs a
// delivery at most this much more than opening at once would.
const maxOpening = 4

var openWait = 2 * time.Second // a variable for tests

func newPool(maxIdle int, timeout time.Duration) *pool {
	return &pool{maxIdle: maxIdle, timeout: timeout, idle: make(map[string][]*conn),
		opening: make(map[string]int), changed: make(map[string]chan struct{})}
}

// take returns an idle connection for key or, when there is none, a slot to
// open one, whose release must be called once the opening ends (in success
// or failure). With maxOpening connections already being opened it waits,
// up to openWait, for either; then it returns a slot anyway. It fails only
// when ctx ends. idleOK false skips the idle connections: the caller found
// them unfit for this delivery.
func (p *pool) take(ctx context.Context, key string, idleOK bool) (cn *conn, release func(), err error) {
	var deadline <-chan time.Time
	for {
		p.mu.Lock()
		if idleOK {
			if cn = p.getLocked(key); cn != nil {
				p.mu.Unlock()
				return cn, nil, nil
			}
		}
		if p.opening[key] < maxOpening {
			defer p.mu.Unlock()
			return nil, p.startOpeningLocked(key), nil
		}
		ch := p.changed[key]
		if ch == nil {
			ch = make(chan struct{})
			p.changed[key] = ch
		}
		p.mu.Unlock()
		if deadline == nil {
			t := time.NewTimer(openWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-ch:
		case <-deadline:
			p.mu.Lock()
			defer p.mu.Unlock()
			return nil, p.startOpeningLocked(key), nil
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// startOpeningLocked counts one more connection being opened to key, and
// returns what ends it.
func (p *pool) startOpeningLocked(key string) func() {
	p.opening[key]++
	return sync.OnceFunc(func() {
		p.mu.Lock()
		if p.opening[key]--; p.opening[key] == 0 {
			delete(p.opening, key)
		}
		p.wakeLocked(key)
		p.mu.Unlock()
	})
}

// wakeLocked tells the deliveries waiting in take for key to look again.
func (p *pool) wakeLocked(key string) {
	if ch := p.changed[key]; ch != nil {
		close(ch)
		delete(p.changed, key)
	}
}

// getLocked takes the most recently used idle connection for key, if any. The
// most recent one is the least likely to have been timed out by the server.
func (p *pool) getLocked(key string) *conn {
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
	p.wakeLocked(cn.key)
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
