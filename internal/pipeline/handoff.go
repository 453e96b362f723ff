package pipeline

import (
	"context"
	"time"

	"github.com/sealpost/sealpost/internal/store"
)

// Handoff is this process's delivery worker as the pipeline sees it: a message it
// has room for is committed with its jobs already claimed by it and handed over at
// once, so delivery starts without a claim (see queue's handoff.go).
type Handoff interface {
	// Reserve holds n delivery slots and returns the owner to claim the jobs for and
	// the end of their lease; ok is false when the worker takes none now.
	Reserve(n int, now time.Time) (owner string, leaseEnd time.Time, ok bool)
	// Adopt starts the committed jobs of a reservation.
	Adopt(jobs []*store.Job)
	// Unreserve gives back the slots of a reservation whose jobs were not committed.
	Unreserve(n int)
}

// HandOffTo has accepted messages handed to h (this process's worker).
func (p *Pipeline) HandOffTo(h Handoff) { p.handoff = h }

// handOffBytes is the largest message handed over with its content: the same bound
// a claim reads messages to (store.LoadMessageBytes), so what a waiting job holds is
// as bounded as when it is claimed.
const handOffBytes = store.LoadMessageBytes

// handover is one message's reservation.
type handover struct {
	h    Handoff
	jobs []*store.Job
}

// reserve claims jobs for the worker when it has room for them all. Only a plain
// message qualifies: one held for review is not delivered; one with records of its
// own (Submission.Also: a campaign's, a portal reply's) is read as the claim reads
// it; a large one is read once memory is reserved for it.
func (p *Pipeline) reserve(ctx context.Context, sub *Submission, held bool, size int, jobs []*store.Job, now time.Time) *handover {
	if p.handoff == nil || held || sub.Also != nil || size > handOffBytes || len(jobs) == 0 {
		return nil
	}
	owner, leaseEnd, ok := p.handoff.Reserve(len(jobs), now)
	if !ok {
		return nil
	}
	ids, err := p.db.NewJobIDs(ctx, len(jobs))
	if err != nil {
		p.handoff.Unreserve(len(jobs))
		return nil // queued for a claim instead
	}
	for i, j := range jobs {
		j.ClaimedBy, j.NextAttemptAt = owner, leaseEnd
		if ids != nil {
			j.ID = ids[i]
		}
	}
	return &handover{h: p.handoff, jobs: jobs}
}

// cancel ends a reservation whose jobs were not committed.
func (ho *handover) cancel() {
	if ho != nil {
		ho.h.Unreserve(len(ho.jobs))
	}
}

// adopt hands the committed jobs over with what a claim would have read for them:
// the message as stored and each job's recipient, and, as the claim does, the first
// attempt counted.
func (ho *handover) adopt(m *store.Message, rcpts []*store.Recipient, now time.Time) {
	if ho == nil {
		return
	}
	byID := make(map[string]*store.Recipient, len(rcpts))
	for _, r := range rcpts {
		byID[r.ID] = r
	}
	stored := time.UnixMilli(now.UnixMilli()).UTC() // the store keeps milliseconds
	for _, j := range ho.jobs {
		msg := *m // each attempt lets go of its copy's content
		msg.CreatedAt, msg.Chunks, msg.Report = time.UnixMilli(m.CreatedAt.UnixMilli()).UTC(), nil, nil
		if msg.Tags == nil {
			msg.Tags = []string{} // as read back: stored as a JSON list
		}
		rcpt := *byID[j.RecipientID]
		rcpt.UpdatedAt = time.UnixMilli(rcpt.UpdatedAt.UnixMilli()).UTC()
		j.Attempts, j.ClaimedAt, j.Size = 1, stored, m.Size
		j.CreatedAt = time.UnixMilli(j.CreatedAt.UnixMilli()).UTC()
		j.ExpiresAt = time.UnixMilli(j.ExpiresAt.UnixMilli()).UTC()
		j.NextAttemptAt = time.UnixMilli(j.NextAttemptAt.UnixMilli()).UTC()
		j.Loaded = &store.Loaded{Message: &msg, Recipient: &rcpt}
	}
	ho.h.Adopt(ho.jobs)
}
