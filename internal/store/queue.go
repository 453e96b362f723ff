package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ClaimJobs takes up to limit due jobs for this owner. Before anything is dialled, each
// job's attempt count is raised and its next attempt time is pushed a lease ahead, so a
// crash mid-delivery retries once the lease ends instead of in a hot loop, and no
// process claims the job again while a delivery may still be running. The lease must
// outlast the longest delivery (connect, TLS and DATA timeouts). On PostgreSQL
// concurrent processes skip each other's locked rows.
func (db *DB) ClaimJobs(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]*Job, error) {
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := "UPDATE deliveries SET attempts = attempts + 1, claimed_by = $1, next_attempt_at = $4" +
		" WHERE id IN (SELECT id FROM deliveries WHERE held = 0 AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3" + lock + ")" +
		" RETURNING id, recipient_id, message_id, tenant_id, domain, sandbox, created_at, expires_at, next_attempt_at, attempts, last_error, data_attempt," +
		" (SELECT size FROM messages WHERE messages.id = deliveries.message_id)"
	var jobs []*Job
	// Rerunnable: it starts by forgetting the jobs an earlier run found.
	err := db.Write(Rerunnable(ctx), func(ctx context.Context, tx *Tx) error {
		jobs = jobs[:0]
		rows, err := tx.query(ctx, q, owner, ms(now), limit, ms(now.Add(lease)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j Job
			var sandbox int
			var created, expires, next int64
			var size sql.NullInt64
			if err := rows.Scan(&j.ID, &j.RecipientID, &j.MessageID, &j.TenantID, &j.Domain, &sandbox, &created, &expires, &next, &j.Attempts, &j.LastError, &j.UnconfirmedAttempt, &size); err != nil {
				return err
			}
			j.Sandbox, j.CreatedAt, j.ExpiresAt, j.NextAttemptAt = sandbox == 1, fromMS(created), fromMS(expires), fromMS(next)
			j.Size = int(size.Int64)
			j.ClaimedAt = now
			jobs = append(jobs, &j)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return tx.loadForDelivery(ctx, jobs)
	})
	return jobs, err
}

// Bounds on what a claim reads for its jobs (Job.Loaded): messages of at most
// LoadMessageBytes, at most loadClaimBytes of them together. A job's message is
// otherwise read by ForDelivery once its memory is reserved (Job.Size); these bound
// what is held before that (a claim takes no more jobs than the worker has free
// slots, so jobs waiting for a slot hold at most LoadMessageBytes each).
const (
	LoadMessageBytes = 64 << 10
	loadClaimBytes   = 4 << 20
)

// loadForDelivery reads the small messages of just-claimed jobs, with their
// recipients, in the claim's transaction: one query instead of one per job, and on
// SQLite through the writer's connection, whose page cache holds the pages the accepts
// just wrote (a reader's cache is emptied by every commit).
func (tx *Tx) loadForDelivery(ctx context.Context, jobs []*Job) error {
	byRecipient := map[string]*Job{}
	var ids []any
	total := 0
	for _, j := range jobs {
		if j.Size <= 0 || j.Size > LoadMessageBytes || total+j.Size > loadClaimBytes {
			continue
		}
		total += j.Size
		byRecipient[j.RecipientID] = j
		ids = append(ids, j.RecipientID)
	}
	if len(ids) == 0 {
		return nil
	}
	ids = padToPowerOfTwo(ids)
	rows, err := tx.query(ctx, forDeliveryQuery+" WHERE r.id IN ("+placeholderList(1, len(ids))+")", ids...) // #nosec G202 -- a fixed query and numbered placeholders; the ids are bound
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var l loadedRow
		if err := rows.Scan(l.dest()...); err != nil {
			return err
		}
		if j := byRecipient[l.r.r.ID]; j != nil && l.m.m.ID == j.MessageID {
			j.Loaded = l.loaded()
		}
	}
	return rows.Err()
}

// markDataWait bounds how long a delivery, between RCPT and DATA, waits for its mark
// to share a commit; under load one comes sooner.
const markDataWait = 4 * time.Millisecond

// MarkData records, before DATA is sent, that this attempt may leave: should its
// outcome never be recorded, the next claim knows the resend may be a duplicate. It
// fails if the job is no longer this owner's (its lease ran out and another process
// claimed it), and then the message must not be sent.
//
// It waits up to markDataWait to share a commit (WriteSoon): nothing outside depends
// on it yet, and alone it was a commit, an fsync, for every delivery. An open loop at
// half capacity (SQLite) committed 1.6 times a message; sharing, 0.87-0.98 times, and the
// committer's time freed shortened the accepts' queue for it.
func (db *DB) MarkData(ctx context.Context, j *Job, owner string) error {
	return db.WriteSoon(Rerunnable(ctx), markDataWait, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE deliveries SET data_attempt = $1 WHERE id = $2 AND claimed_by = $3", j.Attempts, j.ID, owner)
		return oneRow(res, err)
	})
}

// UnrecordedJob returns a job whose attempt reached DATA and whose outcome is not
// recorded, if that attempt is still its latest; ErrNotFound otherwise (recorded, or
// claimed again since).
func (db *DB) UnrecordedJob(ctx context.Context, id int64, attempt int) (*Job, error) {
	var j Job
	var sandbox int
	var created, expires, next int64
	err := db.queryRow(ctx, "SELECT id, recipient_id, message_id, tenant_id, domain, sandbox, created_at, expires_at, next_attempt_at, attempts, last_error FROM deliveries WHERE id = $1 AND data_attempt = $2 AND attempts = $2", id, attempt).
		Scan(&j.ID, &j.RecipientID, &j.MessageID, &j.TenantID, &j.Domain, &sandbox, &created, &expires, &next, &j.Attempts, &j.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	j.Sandbox, j.CreatedAt, j.ExpiresAt, j.NextAttemptAt = sandbox == 1, fromMS(created), fromMS(expires), fromMS(next)
	return &j, nil
}

// StillUnrecorded fails with ErrNotFound unless UnrecordedJob would still return the
// job: part of the write that records it, so a claim in between is never overridden.
func (tx *Tx) StillUnrecorded(ctx context.Context, id int64, attempt int) error {
	lock := ""
	if tx.dialect == Postgres {
		lock = " FOR UPDATE" // a claim racing this write waits, then finds the row gone
	}
	var one int
	err := tx.queryRow(ctx, "SELECT 1 FROM deliveries WHERE id = $1 AND data_attempt = $2 AND attempts = $2"+lock, id, attempt).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// RetireJob ends a job: it moves to history with its outcome. Part of the caller's write
// so the recipient status and events change in the same transaction.
func (tx *Tx) RetireJob(ctx context.Context, j *Job, outcome string, at time.Time, lastError string) error {
	args := []any{j.ID, j.RecipientID, j.MessageID, j.TenantID, j.Domain, ms(j.CreatedAt), j.Attempts, outcome, ms(at), lastError}
	if tx.dialect == Postgres {
		// The retirement waits to ride in the write's recipient update, one round trip
		// for both (SetRecipientOutcome); any other statement runs it alone first.
		if err := tx.flushRetire(ctx); err != nil {
			return err
		}
		tx.retire = args
		return nil
	}
	res, err := tx.exec(ctx, "DELETE FROM deliveries WHERE id = $1", j.ID)
	if err := oneRow(res, err); err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO delivery_history ("+historyCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", args...)
	return err
}

const historyCols = "id, recipient_id, message_id, tenant_id, domain, created_at, attempts, outcome, finished_at, last_error"

// retireCTEs moves a job to history on PostgreSQL, its ten arguments numbered from
// first: the history row is written only if the job was there to delete, so an empty
// "gone" means the job is gone (revoked, or retired by another process).
func retireCTEs(first int) string {
	p := make([]string, 10)
	for i := range p {
		p[i] = "$" + strconv.Itoa(first+i)
	}
	return "gone AS (DELETE FROM deliveries WHERE id = " + p[0] + " RETURNING id), " +
		"history AS (INSERT INTO delivery_history (" + historyCols + ") SELECT gone.id, " + strings.Join(p[1:], ", ") + " FROM gone RETURNING id)"
}

// flushRetire runs a retirement still waiting (RetireJob), alone.
func (tx *Tx) flushRetire(ctx context.Context) error {
	args := tx.retire
	if args == nil {
		return nil
	}
	tx.retire = nil
	var n int
	err := tx.queryRow(ctx, "WITH "+retireCTEs(1)+" SELECT count(*) FROM history", args...).Scan(&n)
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// DeferJob records a temporary failure and when to try next.
func (tx *Tx) DeferJob(ctx context.Context, j *Job, lastError string, next time.Time) error {
	// No row: the delivery was cancelled (revoked) while this attempt ran.
	res, err := tx.exec(ctx, "UPDATE deliveries SET claimed_by = '', data_attempt = 0, last_error = $1, next_attempt_at = $2 WHERE id = $3", lastError, ms(next), j.ID)
	return oneRow(res, err)
}

// ReleaseJobs makes jobs claimed by owner due now (graceful shutdown: another process,
// or the next start, picks them up at once). owner "" releases every claimed job — only
// safe when no other process shares the database (SQLite).
func (db *DB) ReleaseJobs(ctx context.Context, owner string, now time.Time, ids ...int64) (int, error) {
	var n int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		// The claim's attempt is given back unless it reached DATA: that one happened,
		// and may have been accepted.
		q := "UPDATE deliveries SET claimed_by = '', next_attempt_at = $1, attempts = CASE WHEN attempts > 0 AND data_attempt <> attempts THEN attempts - 1 ELSE attempts END WHERE claimed_by <> '' AND ($2 = '' OR claimed_by = $2)"
		args := []any{ms(now), owner}
		if len(ids) > 0 {
			ph := make([]string, len(ids))
			for i, id := range ids {
				ph[i] = fmt.Sprintf("$%d", i+3)
				args = append(args, id)
			}
			q += " AND id IN (" + strings.Join(ph, ", ") + ")"
		}
		res, err := tx.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// QueueStats summarises the live queue.
type QueueStats struct {
	Queued    int
	OldestAge time.Duration
}

// QueueStats counts queued jobs and the age of the oldest.
func (db *DB) QueueStats(ctx context.Context, now time.Time) (QueueStats, error) {
	var s QueueStats
	var oldest *int64
	err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM deliveries").Scan(&s.Queued, &oldest)
	if oldest != nil {
		s.OldestAge = now.Sub(fromMS(*oldest))
	}
	return s, err
}

// Jobs lists live jobs, soonest first (operators' view).
func (db *DB) Jobs(ctx context.Context, limit int) ([]*Job, []bool, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, recipient_id, message_id, tenant_id, domain, sandbox, created_at, expires_at, next_attempt_at, attempts, last_error, held FROM deliveries ORDER BY next_attempt_at, id LIMIT $1", limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var jobs []*Job
	var held []bool
	for rows.Next() {
		var j Job
		var sandbox, h int
		var created, expires, next int64
		if err := rows.Scan(&j.ID, &j.RecipientID, &j.MessageID, &j.TenantID, &j.Domain, &sandbox, &created, &expires, &next, &j.Attempts, &j.LastError, &h); err != nil {
			return nil, nil, err
		}
		j.Sandbox, j.CreatedAt, j.ExpiresAt, j.NextAttemptAt = sandbox == 1, fromMS(created), fromMS(expires), fromMS(next)
		jobs = append(jobs, &j)
		held = append(held, h == 1)
	}
	return jobs, held, rows.Err()
}

// SetJobHeld holds a job (it is not claimed until released) or releases it.
func (db *DB) SetJobHeld(ctx context.Context, id int64, held bool) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE deliveries SET held = $1 WHERE id = $2", b2i(held), id)
		return oneRow(res, err)
	})
}

// RetryJobNow makes a job due at once.
func (db *DB) RetryJobNow(ctx context.Context, id int64, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE deliveries SET next_attempt_at = $1, held = 0 WHERE id = $2", ms(now), id)
		return oneRow(res, err)
	})
}

// DropJob retires a job without delivering it, recording why on the timeline.
func (db *DB) DropJob(ctx context.Context, id int64, now time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		var j Job
		var created int64
		err := tx.queryRow(ctx, "SELECT id, recipient_id, message_id, tenant_id, domain, created_at, attempts FROM deliveries WHERE id = $1", id).
			Scan(&j.ID, &j.RecipientID, &j.MessageID, &j.TenantID, &j.Domain, &created, &j.Attempts)
		if err != nil {
			return ErrNotFound
		}
		j.CreatedAt = fromMS(created)
		if err := tx.RetireJob(ctx, &j, "dropped", now, "dropped by an operator"); err != nil {
			return err
		}
		if err := tx.SetRecipientStatus(ctx, j.RecipientID, "dropped", now, nil); err != nil {
			return err
		}
		return tx.InsertEvents(ctx, &Event{TenantID: j.TenantID, MessageID: j.MessageID, RecipientID: j.RecipientID, Type: "dropped", At: now})
	})
}
