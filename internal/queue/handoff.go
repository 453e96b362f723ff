package queue

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Hand-over at acceptance. A message accepted by this process while the worker has
// free slots goes into the database with its jobs already claimed by the worker
// (store.Job.ClaimedBy: first attempt counted, the lease running), and once the
// accepting transaction commits the jobs, with the message and recipients they
// would read, come straight here. The claim they skip is a write of its own: under a
// light load, on SQLite, a commit with its fsync for every message. Crash safety is
// a claimed job's: should this process die before delivering, the lease ends and any
// process claims the job again.
//
// The pipeline holds slots before its transaction (Reserve) and either adopts the
// jobs after the commit or gives the slots back (Unreserve). Slots are lent only
// while the last claim found less than it had room for: when jobs are due in the
// database, new messages do not overtake them.

// Reserve holds n delivery slots for a message about to be committed and returns
// the owner its jobs are to be claimed for and when their lease ends. ok is false
// when the worker is not running, is stopping, cannot record outcomes, has jobs due
// in the database, or lacks the room.
func (w *Worker) Reserve(n int, now time.Time) (owner string, leaseEnd time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dctx == nil || w.stopped || w.unrecorded > 0 || w.short || n <= 0 {
		return "", time.Time{}, false
	}
	if w.freeLocked() < n {
		return "", time.Time{}, false
	}
	w.reserved += n
	w.handoffs.Add(1)
	return w.cfg.Owner, now.Add(w.cfg.Lease), true
}

// Adopt starts the committed jobs of a reservation, which must cover them all.
func (w *Worker) Adopt(jobs []*store.Job) {
	w.mu.Lock()
	w.reserved -= len(jobs)
	for _, j := range jobs {
		w.waiting[j.Domain] = append(w.waiting[j.Domain], j)
	}
	// Once the worker is stopping, jobs wait for drain, which releases them.
	w.dispatchLocked(w.dctx)
	w.mu.Unlock()
	w.handoffs.Done()
}

// Unreserve gives back the n slots of a reservation whose message was not committed
// (or that an idempotent replay did not need).
func (w *Worker) Unreserve(n int) {
	w.mu.Lock()
	w.reserved -= n
	w.mu.Unlock()
	w.handoffs.Done()
}

// freeLocked is how many slots neither run, wait nor are reserved.
func (w *Worker) freeLocked() int {
	free := w.cfg.Concurrency - w.inflight - w.reserved
	for _, q := range w.waiting {
		free -= len(q)
	}
	return free
}

// setDeliveryContext records, when Run starts, the context deliveries start in.
func (w *Worker) setDeliveryContext(dctx context.Context) {
	w.mu.Lock()
	w.dctx = dctx
	w.mu.Unlock()
}
