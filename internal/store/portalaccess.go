package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The counters that guard a portal copy — wrong attempts, locks, the single use of a
// code, code emails — are decided by conditional statements: the condition and the
// change are one statement, so the database orders concurrent requests, whichever
// process they reach. Reading a count and writing it back in a second step let a
// hundred simultaneous guesses all pass the check before any was counted.

// ErrPortalLocked: the copy or the client address is locked; nothing was counted.
var ErrPortalLocked = errors.New("portal copy or client locked")

// ErrCodeRefused: a code was sent too recently, or too many were sent this window.
var ErrCodeRefused = errors.New("portal code not sent now")

// CodeLimits bound the code emails of one copy.
type CodeLimits struct {
	ResendAfter time.Duration // a new code at most this often while one is live
	PerWindow   int           // at most this many codes per window
	Window      time.Duration
}

// SetPortalCode stores a new access code's hash, replacing any earlier one, and counts
// it in the current window (a new window starts once the window has passed) — only if
// the copy is readable and unlocked, no code went out less than ResendAfter ago, and
// fewer than PerWindow went out this window. Otherwise it returns ErrCodeRefused and
// changes nothing.
func (tx *Tx) SetPortalCode(ctx context.Context, id string, codeHash []byte, expires, sent time.Time, lim CodeLimits) error {
	res, err := tx.exec(ctx, "UPDATE portal_messages SET code_hash = $1, code_expires_at = $2, code_sent_at = $3,"+
		" code_sends = CASE WHEN code_window_start IS NULL OR code_window_start <= $5 THEN 1 ELSE code_sends + 1 END,"+
		" code_window_start = CASE WHEN code_window_start IS NULL OR code_window_start <= $5 THEN $3 ELSE code_window_start END"+
		" WHERE id = $4 AND destroyed_at IS NULL AND (locked_until IS NULL OR locked_until <= $3)"+
		" AND (code_hash IS NULL OR code_sent_at IS NULL OR code_sent_at <= $6)"+
		" AND (code_window_start IS NULL OR code_window_start <= $5 OR code_sends < $7)",
		codeHash, ms(expires), ms(sent), id, ms(sent.Add(-lim.Window)), ms(sent.Add(-lim.ResendAfter)), lim.PerWindow)
	if err := oneRow(res, err); errors.Is(err, ErrNotFound) {
		return ErrCodeRefused
	} else if err != nil {
		return err
	}
	return nil
}

// PortalLock is the lock, if any, on a portal copy or on a client address. It is a
// quick answer for pages; the decisions themselves are PortalSignIn and PortalFailure.
func (db *DB) PortalLock(ctx context.Context, portalID, client string, now time.Time) (time.Time, error) {
	var until sql.NullInt64
	err := db.sql.QueryRowContext(ctx, "SELECT MAX(u) FROM (SELECT locked_until AS u FROM portal_messages WHERE id = $1 AND locked_until > $3"+
		" UNION ALL SELECT locked_until AS u FROM portal_client_failures WHERE client = $2 AND locked_until > $3) AS locks", portalID, client, ms(now)).Scan(&until)
	return fromNullMS(until), err
}

// FailureLimits say when wrong attempts lock a copy or a client, and for how long.
type FailureLimits struct {
	PerMessage, PerClient int
	Lockout               time.Duration
}

// PortalFailure counts a wrong code or passphrase against the copy and the client,
// locking either once it reaches its limit; a lock also destroys the current code.
// It returns the attempts left on the copy (0 when now locked) and the lock's end.
// When the copy or the client is already locked it counts nothing and returns
// ErrPortalLocked; the caller returns that error from its write, so a count made on
// the client before the copy's lock was seen rolls back with it.
func (tx *Tx) PortalFailure(ctx context.Context, portalID, client string, now time.Time, lim FailureLimits) (left int, lockedUntil time.Time, err error) {
	until := now.Add(lim.Lockout)
	// The client's row first, then the copy's, as in every write that takes both: on
	// PostgreSQL a group commit holds the rows of all its writes until it commits, and
	// a different order (one client guessing at several copies) made transactions wait
	// on each other in a circle. The client's count runs over a window as long as a
	// lock; a locked client is not counted (no row comes back).
	var cf int
	err = tx.queryRow(ctx, "INSERT INTO portal_client_failures (client, window_start, failures) VALUES ($1, $2, 1)"+
		" ON CONFLICT (client) DO UPDATE SET failures = CASE WHEN portal_client_failures.window_start <= $3 THEN 1 ELSE portal_client_failures.failures + 1 END,"+
		" window_start = CASE WHEN portal_client_failures.window_start <= $3 THEN $2 ELSE portal_client_failures.window_start END"+
		" WHERE portal_client_failures.locked_until IS NULL OR portal_client_failures.locked_until <= $2 RETURNING failures",
		client, ms(now), ms(now.Add(-lim.Lockout))).Scan(&cf)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, ErrPortalLocked
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	var failures int
	err = tx.queryRow(ctx, "UPDATE portal_messages SET failures = failures + 1 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING failures",
		portalID, ms(now)).Scan(&failures)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, ErrPortalLocked
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	// The locks follow from this request's own counts, while its transaction still
	// holds both rows: no other request counts or signs in between.
	if failures >= lim.PerMessage {
		if _, err := tx.exec(ctx, "UPDATE portal_messages SET failures = 0, locked_until = $1, code_hash = NULL WHERE id = $2", ms(until), portalID); err != nil {
			return 0, time.Time{}, err
		}
		lockedUntil = until
	}
	if cf >= lim.PerClient {
		if _, err := tx.exec(ctx, "UPDATE portal_client_failures SET locked_until = $1, failures = 0, window_start = $2 WHERE client = $3", ms(until), ms(now), client); err != nil {
			return 0, time.Time{}, err
		}
		lockedUntil = until
	}
	if !lockedUntil.IsZero() {
		return 0, lockedUntil, nil
	}
	return lim.PerMessage - failures, time.Time{}, nil
}

// PortalSession is a recipient's signed-in session on one portal copy.
type PortalSession struct {
	IDHash                         []byte
	PortalID                       string
	CreatedAt, LastSeen, ExpiresAt time.Time
}

// PortalSignIn starts a session if, at this moment, the copy is readable, neither it
// nor the client is locked and — for a code (codeHash not nil) — codeHash is still the
// copy's live code. The code is consumed in the same statement, so one code opens one
// session however many requests present it. The failure count is left as it is: only
// a lock restarts it, otherwise guesses racing a sign-in would start a fresh count
// and more than the limit would be evaluated. It reports false, changing nothing,
// when any condition fails.
func (tx *Tx) PortalSignIn(ctx context.Context, s *PortalSession, client string, codeHash []byte, now time.Time) (bool, error) {
	const unlocked = " AND destroyed_at IS NULL AND (locked_until IS NULL OR locked_until <= $2)" +
		" AND NOT EXISTS (SELECT 1 FROM portal_client_failures WHERE client = $3 AND locked_until > $2)"
	// The client's row first, as in PortalFailure (a no-op update that only takes
	// its lock, when the row exists).
	if _, err := tx.exec(ctx, "UPDATE portal_client_failures SET failures = failures WHERE client = $1", client); err != nil {
		return false, err
	}
	var res sql.Result
	var err error
	if codeHash != nil {
		res, err = tx.exec(ctx, "UPDATE portal_messages SET code_hash = NULL, code_expires_at = NULL"+
			" WHERE id = $1"+unlocked+" AND code_hash = $4 AND code_expires_at > $2", s.PortalID, ms(now), client, codeHash)
	} else {
		res, err = tx.exec(ctx, "UPDATE portal_messages SET code_hash = NULL WHERE id = $1"+unlocked, s.PortalID, ms(now), client)
	}
	if err := oneRow(res, err); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	_, err = tx.exec(ctx, "INSERT INTO portal_sessions (id_hash, portal_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
		s.IDHash, s.PortalID, ms(s.CreatedAt), ms(s.LastSeen), ms(s.ExpiresAt))
	return err == nil, err
}
