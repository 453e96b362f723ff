package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// Journey is a stored journey; Name and Definition are sealed.
type Journey struct {
	ID, TenantID         string
	Name, Definition     []byte
	State, TriggerKind   string
	TriggerHash          []byte // keyed hash of the event name (event triggers)
	CreatedAt, UpdatedAt time.Time
}

const journeyCols = "id, tenant_id, name, state, trigger_kind, trigger_hash, definition, created_at, updated_at"

func scanJourney(row interface{ Scan(...any) error }) (*Journey, error) {
	var j Journey
	var c, u int64
	if err := row.Scan(&j.ID, &j.TenantID, &j.Name, &j.State, &j.TriggerKind, &j.TriggerHash, &j.Definition, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	j.CreatedAt, j.UpdatedAt = fromMS(c), fromMS(u)
	return &j, nil
}

func scanJourneys(rows *sql.Rows, err error) ([]*Journey, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Journey
	for rows.Next() {
		j, err := scanJourney(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// CreateJourney stores a journey, with audit (if any) in the same commit.
func (db *DB) CreateJourney(ctx context.Context, j *Journey, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO journeys ("+journeyCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			j.ID, j.TenantID, j.Name, j.State, j.TriggerKind, j.TriggerHash, j.Definition, ms(j.CreatedAt), ms(j.UpdatedAt))
		if err := conflict(err); err != nil {
			return err
		}
		if audit != nil {
			return tx.AppendAudit(ctx, audit)
		}
		return nil
	})
}

// Journey loads a tenant's journey.
func (db *DB) Journey(ctx context.Context, tenantID, id string) (*Journey, error) {
	return scanJourney(db.sql.QueryRowContext(ctx, "SELECT "+journeyCols+" FROM journeys WHERE tenant_id = $1 AND id = $2", tenantID, id))
}

// Journeys lists a tenant's journeys after a cursor id.
func (db *DB) Journeys(ctx context.Context, tenantID, after string, limit int) ([]*Journey, error) {
	return scanJourneys(db.sql.QueryContext(ctx, "SELECT "+journeyCols+" FROM journeys WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3", tenantID, after, limit))
}

// JourneysByEvent lists a tenant's active journeys an event of this name starts.
func (db *DB) JourneysByEvent(ctx context.Context, tenantID string, triggerHash []byte) ([]*Journey, error) {
	return scanJourneys(db.sql.QueryContext(ctx, "SELECT "+journeyCols+" FROM journeys WHERE tenant_id = $1 AND trigger_hash = $2 AND state = 'active' ORDER BY id", tenantID, triggerHash))
}

// ActiveJourneys lists every tenant's active journeys of one trigger kind (the
// scanners of date and segment triggers).
func (db *DB) ActiveJourneys(ctx context.Context, kind string) ([]*Journey, error) {
	return scanJourneys(db.sql.QueryContext(ctx, "SELECT "+journeyCols+" FROM journeys WHERE state = 'active' AND trigger_kind = $1 ORDER BY id", kind))
}

// SetJourneyState moves a journey to a state, when it is in one of from.
func (db *DB) SetJourneyState(ctx context.Context, tenantID, id, state string, from []string, at time.Time, audit *AuditEntry) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		args := []any{state, ms(at), tenantID, id}
		q := "UPDATE journeys SET state = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4 AND state IN ("
		for i, f := range from {
			if i > 0 {
				q += ", "
			}
			args = append(args, f)
			q += "$" + strconv.Itoa(len(args))
		}
		res, err := tx.exec(ctx, q+")", args...)
		if err := oneRow(res, err); err != nil {
			return err
		}
		if audit != nil {
			return tx.AppendAudit(ctx, audit)
		}
		return nil
	})
}

// JourneyRun is one contact's pass through a journey.
type JourneyRun struct {
	ID, JourneyID, TenantID, ContactID string
	EntryKey                           []byte
	Step                               int
	State                              string // active, done, stopped
	DueAt                              time.Time
	Attempts                           int
	Reason                             string
	StartedAt, UpdatedAt               time.Time
}

const runCols = "id, journey_id, tenant_id, contact_id, entry_key, step, state, due_at, attempts, reason, started_at, updated_at"

func scanRun(row interface{ Scan(...any) error }) (*JourneyRun, error) {
	var r JourneyRun
	var due sql.NullInt64
	var s, u int64
	if err := row.Scan(&r.ID, &r.JourneyID, &r.TenantID, &r.ContactID, &r.EntryKey, &r.Step, &r.State, &due, &r.Attempts, &r.Reason, &s, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	r.DueAt, r.StartedAt, r.UpdatedAt = fromNullMS(due), fromMS(s), fromMS(u)
	return &r, nil
}

// StartRun inserts a run unless one exists with the same entry key (then that one is
// returned, started false) or the contact already has a live run of the journey (that
// one is returned, started false). The unique constraints decide, so two processes
// racing on one event still start one run.
func (tx *Tx) StartRun(ctx context.Context, r *JourneyRun) (*JourneyRun, bool, error) {
	existing := func() (*JourneyRun, error) {
		return scanRun(tx.queryRow(ctx, "SELECT "+runCols+" FROM journey_runs WHERE journey_id = $1 AND (entry_key = $2 OR (contact_id = $3 AND live = 1)) ORDER BY CASE WHEN entry_key = $2 THEN 0 ELSE 1 END LIMIT 1", r.JourneyID, r.EntryKey, r.ContactID))
	}
	if old, err := existing(); err == nil {
		return old, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	_, err := tx.exec(ctx, "INSERT INTO journey_runs (id, journey_id, tenant_id, contact_id, entry_key, step, state, live, due_at, started_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', 1, $7, $8, $8)",
		r.ID, r.JourneyID, r.TenantID, r.ContactID, r.EntryKey, r.Step, ms(r.DueAt), ms(r.StartedAt))
	if err := conflict(err); err != nil {
		return nil, false, err // a racing process's insert won: the caller retries and finds it
	}
	r.State, r.UpdatedAt = "active", r.StartedAt
	return r, true, nil
}

// JourneyRun loads a tenant's run.
func (db *DB) JourneyRun(ctx context.Context, tenantID, id string) (*JourneyRun, error) {
	return scanRun(db.sql.QueryRowContext(ctx, "SELECT "+runCols+" FROM journey_runs WHERE tenant_id = $1 AND id = $2", tenantID, id))
}

// JourneyRuns lists a journey's runs after a cursor id.
func (db *DB) JourneyRuns(ctx context.Context, tenantID, journeyID, after string, limit int) ([]*JourneyRun, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+runCols+" FROM journey_runs WHERE tenant_id = $1 AND journey_id = $2 AND id > $3 ORDER BY id LIMIT $4", tenantID, journeyID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*JourneyRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ClaimRuns takes up to limit runs whose step is due, of active journeys, for this
// owner, the way ClaimJobs takes deliveries: each claimed run's due time is pushed a
// lease ahead and its attempts raised, so a process that dies mid-step leaves the run
// to be claimed again when the lease ends, and no other process takes it meanwhile.
// On PostgreSQL concurrent processes skip each other's locked rows.
func (db *DB) ClaimRuns(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]*JourneyRun, error) {
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE OF r SKIP LOCKED"
	}
	q := "UPDATE journey_runs SET attempts = attempts + 1, claimed_by = $1, due_at = $4" +
		" WHERE id IN (SELECT r.id FROM journey_runs r JOIN journeys j ON j.id = r.journey_id WHERE r.due_at <= $2 AND j.state = 'active' ORDER BY r.due_at LIMIT $3" + lock + ")" +
		" RETURNING " + runCols
	var runs []*JourneyRun
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		runs = runs[:0]
		rows, err := tx.query(ctx, q, owner, ms(now), limit, ms(now.Add(lease)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return rows.Err()
	})
	return runs, err
}

// JourneyStep is one step a run took.
type JourneyStep struct {
	RunID, JourneyID, TenantID string
	Step                       int
	Outcome                    string
	MessageID                  string
	At                         time.Time
}

// AdvanceRun records the step a run took and moves it on, in the caller's write (for
// a send, the message's own transaction). It fails with ErrNotFound unless the run is
// still at that step and claimed by owner — its lease ran out and another process
// took it — and then nothing of the write may stay. next < 0 ends the run with state
// (done or stopped) and reason.
func (tx *Tx) AdvanceRun(ctx context.Context, r *JourneyRun, owner string, st *JourneyStep, next int, due time.Time, state, reason string) error {
	var res sql.Result
	var err error
	if next < 0 {
		res, err = tx.exec(ctx, "UPDATE journey_runs SET state = $1, reason = $2, live = NULL, due_at = NULL, claimed_by = '', updated_at = $3 WHERE id = $4 AND step = $5 AND claimed_by = $6",
			state, reason, ms(st.At), r.ID, r.Step, owner)
	} else {
		res, err = tx.exec(ctx, "UPDATE journey_runs SET step = $1, due_at = $2, claimed_by = '', attempts = 0, updated_at = $3 WHERE id = $4 AND step = $5 AND claimed_by = $6",
			next, ms(due), ms(st.At), r.ID, r.Step, owner)
	}
	if err := oneRow(res, err); err != nil {
		return err
	}
	if st.Outcome == "" {
		return nil // a wait that is not over yet: no step taken
	}
	_, err = tx.exec(ctx, "INSERT INTO journey_steps (run_id, journey_id, tenant_id, step, outcome, message_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		st.RunID, st.JourneyID, st.TenantID, st.Step, st.Outcome, st.MessageID, ms(st.At))
	return conflict(err)
}

// ReleaseRun gives a claimed run back, due at the time given (a failure to retry).
func (db *DB) ReleaseRun(ctx context.Context, r *JourneyRun, owner string, due time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "UPDATE journey_runs SET claimed_by = '', due_at = $1 WHERE id = $2 AND claimed_by = $3 AND state = 'active'", ms(due), r.ID, owner)
		return err
	})
}

// ReleaseRuns makes every claimed run due now: at the start of the only process on a
// SQLite database, whatever is claimed was cut off by a crash.
func (db *DB) ReleaseRuns(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE journey_runs SET claimed_by = '', due_at = $1 WHERE claimed_by <> '' AND state = 'active'", ms(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// RunSteps lists the steps a run took, in order.
func (db *DB) RunSteps(ctx context.Context, runID string) ([]*JourneyStep, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT run_id, journey_id, tenant_id, step, outcome, message_id, at FROM journey_steps WHERE run_id = $1 ORDER BY at, step", runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*JourneyStep
	for rows.Next() {
		var s JourneyStep
		var at int64
		if err := rows.Scan(&s.RunID, &s.JourneyID, &s.TenantID, &s.Step, &s.Outcome, &s.MessageID, &at); err != nil {
			return nil, err
		}
		s.At = fromMS(at)
		out = append(out, &s)
	}
	return out, rows.Err()
}

// StepCount is how many runs took one step with one outcome.
type StepCount struct {
	Step    int
	Outcome string
	Count   int64
}

// JourneyStepCounts counts a journey's steps taken, by step and outcome.
func (db *DB) JourneyStepCounts(ctx context.Context, tenantID, journeyID string) ([]StepCount, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT step, outcome, COUNT(*) FROM journey_steps WHERE tenant_id = $1 AND journey_id = $2 GROUP BY step, outcome ORDER BY step, outcome", tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StepCount
	for rows.Next() {
		var c StepCount
		if err := rows.Scan(&c.Step, &c.Outcome, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// JourneyRunCounts counts a journey's runs by state.
func (db *DB) JourneyRunCounts(ctx context.Context, tenantID, journeyID string) (map[string]int64, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT state, COUNT(*) FROM journey_runs WHERE tenant_id = $1 AND journey_id = $2 GROUP BY state", tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// MarkMembers records contacts as seen in a segment-triggered journey's segment at
// this scan and returns those that were not there at the previous one.
func (tx *Tx) MarkMembers(ctx context.Context, journeyID string, contactIDs []string, at time.Time) ([]string, error) {
	var entered []string
	for _, id := range contactIDs {
		res, err := tx.exec(ctx, "UPDATE journey_members SET seen_at = $1 WHERE journey_id = $2 AND contact_id = $3", ms(at), journeyID, id)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 1 {
			continue
		}
		if _, err := tx.exec(ctx, "INSERT INTO journey_members (journey_id, contact_id, seen_at) VALUES ($1, $2, $3)", journeyID, id, ms(at)); err != nil {
			return nil, err
		}
		entered = append(entered, id)
	}
	return entered, nil
}

// ForgetLeavers removes the members a scan that began at scanStart did not see: they
// left the segment, and entering again starts them again.
func (db *DB) ForgetLeavers(ctx context.Context, journeyID string, scanStart time.Time) error {
	return db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.exec(ctx, "DELETE FROM journey_members WHERE journey_id = $1 AND seen_at < $2", journeyID, ms(scanStart))
		return err
	})
}
