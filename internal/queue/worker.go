// Package queue runs delivery jobs from the database: claim due jobs, deliver each with
// per-domain concurrency limits, and record the outcome — delivered, deferred with the
// next attempt already scheduled, bounced or expired — with its events.
package queue

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/sealpost/sealpost/internal/delivery"
	"github.com/sealpost/sealpost/internal/membudget"
	"github.com/sealpost/sealpost/internal/secureline"
	"github.com/sealpost/sealpost/internal/store"
	"github.com/sealpost/sealpost/internal/tenant"
)

// Deliverer hands one message to one recipient's server.
type Deliverer interface {
	Deliver(ctx context.Context, env delivery.Envelope, msg io.Reader) (*delivery.Result, error)
}

// DefaultRetry follows RFC 5321 4.5.4.1: early retries within minutes, then at least 30
// minutes apart, giving up after Expire (default 5 days).
var DefaultRetry = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}

// Config tunes a Worker.
type Config struct {
	Owner        string          // unique per process: who holds claimed jobs
	Concurrency  int             // deliveries in flight at once
	PerDomain    int             // deliveries in flight per destination domain
	Retry        []time.Duration // delay after the 1st, 2nd, … failed attempt; the last repeats
	Lease        time.Duration   // how long a claimed job is ours before it may be retried (crash recovery)
	PollInterval time.Duration   // how often to look for due jobs when idle
	DrainTimeout time.Duration   // on stop: how long in-flight deliveries may finish
	// LogDir, if set, holds the local log of deliveries accepted by the remote server
	// whose outcome is not yet committed (the data directory).
	LogDir string
	// APIBusy, if set, says whether API requests are in flight: CPU-heavy delivery work
	// then leaves a core to them, so acceptance latency does not pay for delivery.
	APIBusy func() bool
	// Memory, if set, is the process's cap on bytes being worked on, shared with the
	// API: a delivery holds twice its message's size (the loaded row, then the copy
	// a method makes) while it runs.
	Memory *membudget.Budget
	// Tracker, if set, adds open and click tracking to copies that asked for it.
	Tracker Tracker
	// ReturnPath, if set, is the envelope sender for one recipient's delivery (VERP
	// bounce addressing); unset, the message's From.
	ReturnPath func(keys *tenant.Keys, recipientID, from string) string
	// Gate, if set, may stop a delivery when its job is claimed: marketing consent
	// and suppression are checked again at that moment (see Gate).
	Gate Gate
	// GoRSA keeps DKIM RSA signatures in Go's crypto/rsa; unset, they are made by
	// OpenSSL where this build can load it (dkimsign.Accelerate).
	GoRSA bool
}

// Gate decides, when a job is claimed, whether its message may still go to its
// recipient. Marketing mail is accepted minutes or hours before it is delivered (a
// throttled campaign, a retried delivery): a consent revoked in between, or an
// address suppressed, must stop it. A non-empty reason stops the delivery; the
// reason is recorded with the outcome, so it must never carry PHI.
type Gate interface {
	CheckDelivery(ctx context.Context, tenantID, messageID string) (reason string, err error)
}

// Observer is told of outcomes (metrics); optional.
type Observer interface {
	Delivered(latency time.Duration)
	Deferred()
	Bounced()
	Expired()
}

// Worker delivers queued jobs.
type Worker struct {
	db      *store.DB
	tenants *tenant.Service
	secure  *secureline.Service
	out     Deliverer
	cfg     Config
	log     *slog.Logger
	obs     Observer
	now     func() time.Time
	wake    chan struct{}

	mu       sync.Mutex
	inflight int
	byDomain map[string]int
	waiting  map[string][]*store.Job
	running  sync.WaitGroup
	stopped  bool
	// short is set when a claim was held back by the number of free slots (none
	// free, or every one filled): a finished delivery then wakes the claim loop.
	// Otherwise it does so only if the last claim is older than finishWakeAge: work
	// queued by this process wakes the loop itself, and a claim just made took all
	// that was due; but jobs queued by another process (an API-only one sharing the
	// database) are found only by claiming, so a busy worker still looks for them
	// between polls.
	short     bool
	lastClaim time.Time
	// unrecorded counts outcomes the database refused and that are being retried.
	// While any are, nothing new is claimed or started: a delivery whose outcome
	// cannot be written would only be sent again once its lease ends.
	unrecorded int
	signers    signerCache
	signing    *signingSlots
	signed     signOnce   // signatures shared by copies with identical bytes
	accepted   *acceptLog // nil without Config.LogDir
	orphans    bool       // a dead process's log is not yet fully recorded
	// Hand-over at acceptance (handoff.go): slots held for messages being committed
	// with their jobs claimed for this worker, the reservations not yet ended, and the
	// context deliveries start in (nil until Run starts).
	reserved int
	handoffs sync.WaitGroup
	dctx     context.Context
}

// New builds a worker.
func New(db *store.DB, tenants *tenant.Service, secure *secureline.Service, out Deliverer, cfg Config, log *slog.Logger, obs Observer) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.PerDomain <= 0 {
		cfg.PerDomain = 16
	}
	if len(cfg.Retry) == 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 10 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 20 * time.Second
	}
	return &Worker{db: db, tenants: tenants, secure: secure, out: out, cfg: cfg, log: log, obs: obs, now: time.Now,
		wake: make(chan struct{}, 1), byDomain: map[string]int{}, waiting: map[string][]*store.Job{}, signing: newSigningSlots(cpus, cfg.APIBusy)}
}

// Notify tells the worker new jobs may be due (after an accepted message), so delivery
// starts without waiting for the next poll.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run claims and delivers until ctx ends, then stops claiming, gives in-flight
// deliveries DrainTimeout to finish, and releases every job it holds but did not finish.
func (w *Worker) Run(ctx context.Context) error {
	// Deliveries get their own context: cancelling ctx stops claiming, and only the
	// drain deadline cuts off deliveries still talking to a server.
	dctx, cancelDeliveries := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDeliveries()
	w.setDeliveryContext(dctx)
	if w.cfg.LogDir != "" {
		l, err := openAcceptLog(w.cfg.LogDir, w.cfg.Owner)
		if err != nil {
			// Delivery still works; a crash just resends more.
			w.log.Error("open the local log of accepted deliveries", "err", err)
		} else {
			w.accepted = l
			defer l.close()
		}
		w.recoverOrphans(dctx)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return w.drain(cancelDeliveries)
		case <-timer.C:
		case <-w.wake:
		}
		if w.orphans {
			// Recorded before claiming: those jobs must not be sent again.
			w.recoverOrphans(dctx)
		}
		full, err := w.claim(ctx, dctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("claim jobs", "err", err)
		}
		// Claim again at once only when this claim filled every free slot: more may be
		// due. One that took fewer found all there was, and the next acceptance or
		// finished delivery wakes the loop anyway — an immediate second claim would
		// find nothing at the cost of a write, once per message under a light load.
		next := w.cfg.PollInterval
		if full {
			next = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// finishWakeAge: a finished delivery wakes the claim loop if no claim was made for
// this long (see Worker.short).
const finishWakeAge = 100 * time.Millisecond

// claim takes due jobs for the free slots and reports whether it filled them all.
func (w *Worker) claim(ctx, dctx context.Context) (bool, error) {
	w.mu.Lock()
	free := w.freeLocked()
	paused := w.unrecorded > 0
	if free <= 0 {
		w.short = true
	}
	w.mu.Unlock()
	if free <= 0 || paused {
		// Wait for a slot, or for outcomes to be written again; either wakes us.
		return false, nil
	}
	jobs, err := w.db.ClaimJobs(ctx, w.cfg.Owner, w.now(), free, w.cfg.Lease)
	if err != nil {
		return false, err
	}
	w.mu.Lock()
	for _, j := range jobs {
		w.waiting[j.Domain] = append(w.waiting[j.Domain], j)
	}
	full := len(jobs) == free
	if full {
		w.short = true
	}
	w.lastClaim = time.Now()
	w.dispatchLocked(dctx)
	w.mu.Unlock()
	return full, nil
}

// dispatchLocked starts waiting jobs while global and per-domain slots allow.
func (w *Worker) dispatchLocked(dctx context.Context) {
	if w.stopped || w.unrecorded > 0 {
		return
	}
	for domain, q := range w.waiting {
		for len(q) > 0 && w.inflight < w.cfg.Concurrency && w.byDomain[domain] < w.cfg.PerDomain {
			j := q[0]
			q = q[1:]
			w.inflight++
			w.byDomain[domain]++
			w.running.Add(1)
			go w.run(dctx, j)
		}
		if len(q) == 0 {
			delete(w.waiting, domain)
		} else {
			w.waiting[domain] = q
		}
	}
}

func (w *Worker) run(dctx context.Context, j *store.Job) {
	defer w.running.Done()
	free := sync.OnceFunc(func() { w.free(dctx, j) })
	defer free()
	w.deliver(context.WithValue(dctx, slotKey{}, free), j)
}

// slotKey holds, in a delivery's context, the function that gives its slots back.
type slotKey struct{}

// freeSlot gives a delivery's slots back once its outcome is known, before that
// outcome is written: the slots bound conversations with remote servers, and the
// write waits for a group commit (and, before it, the local log's fsync) that
// holds no connection. Held to the end, each slot spent half its time waiting
// on the disk. The job stays claimed until the outcome commits, and Run's drain
// still waits for the write.
func freeSlot(ctx context.Context) {
	if f, ok := ctx.Value(slotKey{}).(func()); ok {
		f()
	}
}

// free releases j's slots and starts what they were holding back.
func (w *Worker) free(dctx context.Context, j *store.Job) {
	w.mu.Lock()
	w.inflight--
	w.byDomain[j.Domain]--
	if w.byDomain[j.Domain] == 0 {
		delete(w.byDomain, j.Domain)
	}
	w.dispatchLocked(dctx)
	wake := w.short || time.Since(w.lastClaim) > finishWakeAge
	w.short = false
	w.mu.Unlock()
	if wake {
		w.Notify()
	}
}

// pauseFor marks one more (or one fewer) outcome that cannot be written; when the last
// is written, waiting jobs start and claiming resumes.
func (w *Worker) pauseFor(dctx context.Context, delta int) {
	w.mu.Lock()
	w.unrecorded += delta
	if w.unrecorded == 0 {
		w.dispatchLocked(dctx)
	}
	w.mu.Unlock()
	if delta < 0 {
		w.Notify()
	}
}

// Paused reports whether claiming is paused because outcomes cannot be written.
func (w *Worker) Paused() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.unrecorded > 0
}

func (w *Worker) drain(cancel context.CancelFunc) error {
	w.mu.Lock()
	w.stopped = true
	var unstarted []int64
	for _, q := range w.waiting {
		for _, j := range q {
			unstarted = append(unstarted, j.ID)
		}
	}
	w.waiting = map[string][]*store.Job{}
	w.mu.Unlock()
	done := make(chan struct{})
	// Messages being committed with jobs claimed for this worker end first: their
	// jobs, adopted after the stop, wait unstarted and are released below with the
	// rest. No reservation starts once stopped is set.
	go func() { w.handoffs.Wait(); w.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.DrainTimeout):
		w.log.Warn("drain deadline reached; abandoning in-flight deliveries")
		cancel()
		<-done
	}
	ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
	defer c()
	// Jobs never started, and any a cancelled delivery left claimed, become due at
	// once for the next process.
	n, err := w.db.ReleaseJobs(ctx, w.cfg.Owner, w.now())
	if err != nil {
		return err
	}
	w.log.Info("worker stopped", "released", n, "unstarted", len(unstarted))
	return nil
}

// errShredded marks a job whose content can never be read again.
var errShredded = errors.New("message content destroyed with the tenant key")
