package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Pace bounds how long one request may take to arrive and its response to leave.
type Pace struct {
	// Body: a request body must be complete within Body plus one second per MinRate
	// bytes received. Each chunk moves the deadline, so a large upload at a real
	// rate succeeds and a client trickling a byte now and then is cut off.
	Body time.Duration
	// Write: the same for the response, counted from when the request was read.
	Write   time.Duration
	MinRate int64 // bytes per second
	// MaxBody is the largest body any handler accepts: a larger Content-Length
	// reserves only this much, since no handler reads past it.
	MaxBody int64
	// Inflight caps the request body bytes held by all requests at once (nil: none):
	// the process's one memory budget (a *membudget.Budget), shared with delivery.
	Inflight Inflight
	// Wait bounds how long a body waits for room in Inflight (0: up to Body).
	Wait time.Duration
	// RetryAfter is sent with the 503 of a request that found no room in Inflight.
	RetryAfter time.Duration
}

// Inflight is a byte budget: Take waits for room until ctx ends; Release gives back.
type Inflight interface {
	Take(ctx context.Context, n int64) (int64, bool)
	Release(n int64)
}

// ErrBusy is what reading a request body returns when Inflight had no room for it
// in time. Handlers answer 503.
var ErrBusy = errors.New("server busy: too many request bytes in flight")

// Guard applies p to every request h serves.
func (p Pace) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rc := http.NewResponseController(w)
		pw := &pacedWriter{ResponseWriter: w, rc: rc, pace: p}
		pw.from(start)
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(pw, r)
			pw.finish()
			return
		}
		b := &pacedBody{ReadCloser: r.Body, rc: rc, pace: p, start: start, w: pw, ctx: r.Context()}
		// A body's arrival is bounded by the deadlines below; the read deadline is set
		// only while one is expected, because the server's own background read (which
		// notices a client hanging up) also obeys it.
		rc.SetReadDeadline(start.Add(p.Body))
		defer b.release()
		if n := r.ContentLength; n > 0 && p.Inflight != nil {
			// Room for the declared length is reserved before anything is read.
			if err := b.reserve(min(n, max(p.MaxBody, 1))); err != nil {
				busy(pw, p.RetryAfter)
				return
			}
			b.declared = true
		}
		r.Body = b
		h.ServeHTTP(pw, r)
		// A body the handler left unread keeps its read deadline: the server discards
		// the rest after the handler returns, and that must not wait on a trickle.
		pw.finish()
	})
}

func busy(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(retry/time.Second))))
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, `{"type":"about:blank","title":"Service unavailable","status":503,"detail":"the server is receiving too much at once; retry later"}`+"\n")
}

// pacedBody moves the connection's deadlines as the body arrives and reserves room
// in the in-flight budget for what it holds.
type pacedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	pace     Pace
	start    time.Time
	w        *pacedWriter
	ctx      context.Context
	n        int64
	held     int64 // bytes reserved in Inflight
	declared bool  // the whole Content-Length is reserved
	reading  bool  // the handler has started reading
	ended    bool
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if !b.reading {
		// The body's time starts when the handler first asks for it: time the
		// handler spent before that (a slow database, say) is not the client's.
		b.reading = true
		b.start = time.Now()
		b.rc.SetReadDeadline(b.start.Add(b.pace.Body))
	}
	var granted int64
	if b.pace.Inflight != nil && !b.declared && len(p) > 0 {
		// A body of unknown length reserves what it may read next.
		before := b.held
		if err := b.reserve(int64(len(p))); err != nil {
			return 0, err
		}
		granted = b.held - before
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if unused := granted - int64(n); unused > 0 {
		b.pace.Inflight.Release(unused)
		b.held -= unused
	}
	switch {
	case err == io.EOF:
		b.done()
	case n > 0:
		deadline := b.start.Add(b.pace.Body + b.pace.perRate(b.n))
		b.rc.SetReadDeadline(deadline)
		b.w.from(deadline)
	}
	return n, err
}

func (b *pacedBody) reserve(n int64) error {
	wait := time.Until(b.start.Add(b.pace.Body))
	if b.pace.Wait > 0 {
		wait = min(wait, b.pace.Wait)
	}
	ctx, cancel := context.WithTimeout(b.ctx, max(wait, 0))
	defer cancel()
	got, ok := b.pace.Inflight.Take(ctx, n)
	if !ok {
		return ErrBusy
	}
	b.held += got
	return nil
}

// done: the whole body is in; the handler's time to answer starts now.
func (b *pacedBody) done() {
	if b.ended {
		return
	}
	b.ended = true
	b.rc.SetReadDeadline(time.Time{})
	b.w.from(time.Now())
}

func (b *pacedBody) release() {
	if b.pace.Inflight != nil {
		b.pace.Inflight.Release(b.held)
		b.held = 0
	}
}

func (p Pace) perRate(n int64) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(p.MinRate)
}

// pacedWriter keeps the write deadline at Write after the request was read, plus the
// time the bytes written so far may take at MinRate.
type pacedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	pace    Pace
	base    time.Time
	written int64
}

func (w *pacedWriter) from(t time.Time) {
	if t.After(w.base) {
		w.base = t
		w.deadline()
	}
}

func (w *pacedWriter) deadline() {
	w.rc.SetWriteDeadline(w.base.Add(w.pace.Write + w.pace.perRate(w.written)))
}

func (w *pacedWriter) Write(b []byte) (int, error) {
	w.written += int64(len(b))
	w.deadline()
	return w.ResponseWriter.Write(b)
}

// finish gives a handler that wrote little or nothing the full write time for what
// the server sends after it returns.
func (w *pacedWriter) finish() { w.from(time.Now()) }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
