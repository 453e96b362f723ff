package devnet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// ReceiverOptions configures a Receiver. The zero value is usable: any
// domain, no TLS, no authentication.
type ReceiverOptions struct {
	Addr     string           // listen address; "" means "127.0.0.1:0"
	Hostname string           // name in the greeting; "" means "localhost"
	TLSCert  *tls.Certificate // nil: STARTTLS is not offered
	// ImplicitTLS makes the listener speak TLS from the first byte, like a
	// submission port (RFC 8314 3.3). Requires TLSCert.
	ImplicitTLS bool
	// Domains limits RCPT to these domains and their subdomains; empty
	// accepts any domain.
	Domains         []string
	MaxMessageBytes int64 // 0: no limit
	MaxStored       int   // messages kept in memory; 0 means 10000
	// Respond is called for every recipient at the end of DATA; attempt
	// counts the DATA phases seen for that recipient, starting at 1. A
	// non-nil result rejects the message with that reply, which lets a test
	// script "451 twice, then accept".
	Respond func(rcpt string, attempt int) *smtp.SMTPError
	// Inspect sees each message at the end of DATA, before the reply goes back; a
	// non-nil result rejects it. Tests use it to act at the very moment a message
	// arrives, while its sender still waits for the answer.
	Inspect func(from string, to []string, data []byte) *smtp.SMTPError
	// Auth maps usernames to passwords. When set, AUTH PLAIN is offered
	// (over TLS only) and MAIL is refused until the client authenticates.
	Auth map[string]string
	// AllowBareLF accepts messages with a CR or LF outside a CRLF pair.
	// They are refused by default because lenient handling of bare line
	// ends is what SMTP smuggling exploits (RFC 5321 2.3.8).
	AllowBareLF bool
	Logger      *slog.Logger
}

// Received is one accepted message.
type Received struct {
	ID   int
	From string
	To   []string
	Data []byte // exactly as received, CRLF line ends, dot-stuffing removed
	TLS  *tls.ConnectionState
	Helo string
	At   time.Time
	// Client is the sending IP address; Authenticated, whether it used AUTH.
	Client        string
	Authenticated bool
	// Trace is the Received field this server recorded for the message
	// (RFC 5321 4.4), CRLF-terminated: what a real server prepends when it
	// delivers into a mailbox. Data stays byte-exact for the tests.
	Trace string
}

// Delivered is the message as a mailbox would hold it: Trace, then Data.
func (m *Received) Delivered() []byte {
	return append([]byte(m.Trace), m.Data...)
}

// Receiver is a receiving SMTP server on loopback that keeps what it
// accepts in memory.
type Receiver struct {
	opts ReceiverOptions
	log  *slog.Logger
	srv  *smtp.Server
	ln   net.Listener

	mu       sync.Mutex
	nextID   int
	count    int
	conns    int
	msgs     []Received
	attempts map[string]int
	changed  chan struct{} // closed and replaced whenever state changes
	subs     map[int]chan Received
	nextSub  int
}

// StartReceiver starts listening and serving in the background.
func StartReceiver(opts ReceiverOptions) (*Receiver, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.MaxStored <= 0 {
		opts.MaxStored = 10000
	}
	if opts.ImplicitTLS && opts.TLSCert == nil {
		return nil, errors.New("devnet: ImplicitTLS needs TLSCert")
	}
	r := &Receiver{
		opts:     opts,
		log:      opts.Logger,
		attempts: make(map[string]int),
		changed:  make(chan struct{}),
		subs:     make(map[int]chan Received),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "devnet.receiver")

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devnet: receiver listen: %w", err)
	}
	srv := smtp.NewServer(r)
	srv.Domain = opts.Hostname
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = 100 // the minimum a server must accept (RFC 5321 4.5.3.1.8)
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = slogPrinter{r.log}
	if opts.TLSCert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*opts.TLSCert}, MinVersion: tls.VersionTLS12}
	}
	r.srv = srv
	r.ln = &countingListener{Listener: ln, r: r}
	if opts.ImplicitTLS {
		r.ln = tls.NewListener(r.ln, srv.TLSConfig)
	}
	go func() { _ = srv.Serve(r.ln) }() // returns when Close is called
	return r, nil
}

// Addr returns the listening "host:port".
func (r *Receiver) Addr() string { return r.ln.Addr().String() }

// Port returns the listening TCP port.
func (r *Receiver) Port() int {
	_, port, _ := net.SplitHostPort(r.Addr())
	n, _ := strconv.Atoi(port)
	return n
}

// Close stops the server and drops open connections.
func (r *Receiver) Close() error {
	err := r.srv.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, ch := range r.subs {
		close(ch)
		delete(r.subs, id)
	}
	return err
}

// Messages returns a copy of the stored messages, oldest first.
func (r *Receiver) Messages() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Received, len(r.msgs))
	for i, m := range r.msgs {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// Count returns how many messages were accepted since start or Reset,
// including ones since dropped from storage.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Connections returns how many TCP connections were accepted, so tests can
// check that a client reused its connection.
func (r *Receiver) Connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// Attempts returns how many DATA phases ended for rcpt, accepted or not.
func (r *Receiver) Attempts(rcpt string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[normAddr(rcpt)]
}

// WaitCount blocks until Count reaches n or ctx ends.
func (r *Receiver) WaitCount(ctx context.Context, n int) error {
	for {
		r.mu.Lock()
		count, changed := r.count, r.changed
		r.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("devnet: waiting for %d messages, have %d: %w", n, count, ctx.Err())
		}
	}
}

// Reset forgets stored messages, counts and attempts.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs, r.count, r.conns = nil, 0, 0
	clear(r.attempts)
	r.notifyLocked()
}

// Subscribe returns a channel that receives each message accepted from now
// on, and a function to stop. A subscriber that falls more than 64 messages
// behind misses messages rather than stalling the server.
func (r *Receiver) Subscribe() (<-chan Received, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.nextSub
	r.nextSub++
	ch := make(chan Received, 64)
	r.subs[id] = ch
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if c, ok := r.subs[id]; ok {
			close(c)
			delete(r.subs, id)
		}
	}
}

// store records an accepted message and returns its id.
func (r *Receiver) store(m Received) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextID++
	m.ID = r.nextID
	m.Trace = traceLine(&m, r.opts.Hostname)
	r.count++
	if len(r.msgs) >= r.opts.MaxStored {
		r.msgs = append(r.msgs[:0:0], r.msgs[len(r.msgs)-r.opts.MaxStored+1:]...)
	}
	r.msgs = append(r.msgs, m)
	for _, ch := range r.subs {
		select {
		case ch <- m:
		default:
		}
	}
	r.notifyLocked()
	return m.ID
}

func (r *Receiver) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	r *Receiver
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.r.mu.Lock()
		l.r.conns++
		l.r.mu.Unlock()
	}
	return c, err
}

// slogPrinter adapts slog to the Printf-style logger go-smtp expects.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.log.Warn(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.log.Warn(fmt.Sprint(v...)) }
