package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WebhookEndpoint is one receiver a tenant registered. URL and Description are sealed by
// the caller.
type WebhookEndpoint struct {
	ID, TenantID   string
	URL            []byte
	Description    []byte
	Types          []string // empty: every type
	Enabled        bool
	IncludeAddress bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FailingSince   time.Time // zero: the last attempt succeeded (or none failed)
	DisabledReason string
}

// WebhookSecret is one signing secret (sealed); ExpiresAt zero is the current one.
type WebhookSecret struct {
	ID         int64
	EndpointID string
	Secret     []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// WebhookJob is one event to push to one endpoint.
type WebhookJob struct {
	ID            int64
	EndpointID    string
	TenantID      string
	EventID       int64
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

// WebhookAttempt records one try: never the receiver's answer body, never the URL.
type WebhookAttempt struct {
	ID         int64
	EndpointID string
	TenantID   string
	EventID    int64
	Attempt    int
	At         time.Time
	Status     int
	Latency    time.Duration
	Error      string
	Outcome    string // delivered, retrying, failed (schedule exhausted), disabled
}

const webhookEndpointCols = "id, tenant_id, url, description, types, enabled, include_address, created_at, updated_at, failing_since, disabled_reason"

func scanWebhookEndpoint(row interface{ Scan(...any) error }) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	var types string
	var enabled, addr int
	var created, updated int64
	var failing sql.NullInt64
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &enabled, &addr, &created, &updated, &failing, &e.DisabledReason); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if types != "" {
		e.Types = strings.Split(types, ",")
	}
	e.Enabled, e.IncludeAddress, e.CreatedAt, e.UpdatedAt, e.FailingSince = enabled == 1, addr == 1, fromMS(created), fromMS(updated), fromNullMS(failing)
	return &e, nil
}

// PutWebhookEndpoint inserts or replaces an endpoint's settings.
func (tx *Tx) PutWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	_, err := tx.exec(ctx, "INSERT INTO webhook_endpoints ("+webhookEndpointCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"+
		" ON CONFLICT (id) DO UPDATE SET url = excluded.url, description = excluded.description, types = excluded.types, enabled = excluded.enabled,"+
		" include_address = excluded.include_address, updated_at = excluded.updated_at, failing_since = excluded.failing_since, disabled_reason = excluded.disabled_reason",
		e.ID, e.TenantID, e.URL, e.Description, strings.Join(e.Types, ","), b2i(e.Enabled), b2i(e.IncludeAddress), ms(e.CreatedAt), ms(e.UpdatedAt), nullMS(e.FailingSince), e.DisabledReason)
	return err
}

// WebhookEndpoint loads one of a tenant's endpoints; tenantID "" is for the worker.
func (db *DB) WebhookEndpoint(ctx context.Context, tenantID, id string) (*WebhookEndpoint, error) {
	return scanWebhookEndpoint(db.queryRow(ctx, "SELECT "+webhookEndpointCols+" FROM webhook_endpoints WHERE id = $1 AND ($2 = '' OR tenant_id = $2)", id, tenantID))
}

// WebhookEndpoints lists a tenant's endpoints, oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context, tenantID string) ([]*WebhookEndpoint, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+webhookEndpointCols+" FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*WebhookEndpoint
	for rows.Next() {
		e, err := scanWebhookEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteWebhookEndpoint removes an endpoint with its secrets and pending jobs; its
// attempt log stays for the record.
func (tx *Tx) DeleteWebhookEndpoint(ctx context.Context, tenantID, id string) error {
	res, err := tx.exec(ctx, "DELETE FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2", id, tenantID)
	if err := oneRow(res, err); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "DELETE FROM webhook_secrets WHERE endpoint_id = $1", id); err != nil {
		return err
	}
	_, err = tx.exec(ctx, "DELETE FROM webhook_jobs WHERE endpoint_id = $1", id)
	return err
}

// AddWebhookSecret adds a signing secret. With overlap > 0 the secrets that were current
// keep signing until now+overlap; with overlap 0 they stop at once.
func (tx *Tx) AddWebhookSecret(ctx context.Context, endpointID string, sealed []byte, now time.Time, overlap time.Duration) error {
	if _, err := tx.exec(ctx, "UPDATE webhook_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)", ms(now.Add(overlap)), endpointID); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "DELETE FROM webhook_secrets WHERE endpoint_id = $1 AND expires_at <= $2", endpointID, ms(now)); err != nil {
		return err
	}
	_, err := tx.exec(ctx, "INSERT INTO webhook_secrets (endpoint_id, secret, created_at, expires_at) VALUES ($1, $2, $3, NULL)", endpointID, sealed, ms(now))
	return err
}

// WebhookSecrets returns the secrets that sign at now, newest first.
func (db *DB) WebhookSecrets(ctx context.Context, endpointID string, now time.Time) ([]*WebhookSecret, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, endpoint_id, secret, created_at, expires_at FROM webhook_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC", endpointID, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*WebhookSecret
	for rows.Next() {
		var s WebhookSecret
		var created int64
		var exp sql.NullInt64
		if err := rows.Scan(&s.ID, &s.EndpointID, &s.Secret, &created, &exp); err != nil {
			return nil, err
		}
		s.CreatedAt, s.ExpiresAt = fromMS(created), fromNullMS(exp)
		out = append(out, &s)
	}
	return out, rows.Err()
}

// WebhookKey returns a tenant's sealed Ed25519 private key and its public key, or
// ErrNotFound.
func (db *DB) WebhookKey(ctx context.Context, tenantID string) (sealedPrivate, public []byte, err error) {
	err = db.queryRow(ctx, "SELECT private_key, public_key FROM webhook_keys WHERE tenant_id = $1", tenantID).Scan(&sealedPrivate, &public)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return
}

// PutWebhookKey stores a tenant's key unless one exists (the first writer wins, so two
// processes creating it at once agree); callers read it back.
func (tx *Tx) PutWebhookKey(ctx context.Context, tenantID string, sealedPrivate, public []byte, now time.Time) error {
	_, err := tx.exec(ctx, "INSERT INTO webhook_keys (tenant_id, private_key, public_key, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO NOTHING", tenantID, sealedPrivate, public, ms(now))
	return err
}

// enqueueWebhooks notes events for their webhook jobs: one job per enabled endpoint
// whose filter takes the event, written in the transaction that writes the events, so
// an event that exists always reaches its endpoints. The jobs of a whole grouped
// commit are written by one statement at its end (flushWebhooks).
func (tx *Tx) enqueueWebhooks(ids []int64) {
	tx.webhooks = append(tx.webhooks, ids...)
}

// flushWebhooks writes the jobs of the events noted by enqueueWebhooks. Endpoints are
// read as they stand at the end of the commit: one added or changed by a later write
// of the same commit applies to the events of the earlier ones too.
func (tx *Tx) flushWebhooks(ctx context.Context) error {
	for rest := tx.webhooks; len(rest) > 0; {
		batch := rest[:min(len(rest), webhookEventsPerInsert)]
		rest = rest[len(batch):]
		ids := make([]any, len(batch))
		for i, id := range batch {
			ids[i] = id
		}
		args := padToPowerOfTwo(ids)
		// On PostgreSQL it rides with the commit's report rollups (flushRollups),
		// one round trip for both.
		build := func(first int) string {
			return "INSERT INTO webhook_jobs (endpoint_id, tenant_id, event_id, next_attempt_at, created_at)" +
				" SELECT w.id, w.tenant_id, e.id, e.at, e.at FROM events e JOIN webhook_endpoints w ON w.tenant_id = e.tenant_id" +
				" WHERE e.id IN (" + placeholderList(first, len(args)) + ") AND w.enabled = 1 AND (w.types = '' OR (',' || w.types || ',') LIKE ('%,' || e.type || ',%'))"
		}
		if err := tx.statementLater(ctx, build, args...); err != nil {
			return err
		}
	}
	tx.webhooks = tx.webhooks[:0]
	return nil
}

// webhookEventsPerInsert bounds the events of one fan-out statement (a power of two).
const webhookEventsPerInsert = 512

// EnqueueWebhookReplay queues events again for one endpoint: eventID > 0 for one event,
// otherwise every event of the tenant in [since, until). It returns how many.
func (tx *Tx) EnqueueWebhookReplay(ctx context.Context, tenantID, endpointID string, eventID int64, since, until time.Time, now time.Time) (int64, error) {
	q := "INSERT INTO webhook_jobs (endpoint_id, tenant_id, event_id, next_attempt_at, created_at) SELECT $1, tenant_id, id, $3, $3 FROM events WHERE tenant_id = $2"
	args := []any{endpointID, tenantID, ms(now)}
	if eventID > 0 {
		q += " AND id = $4"
		args = append(args, eventID)
	} else {
		q += " AND at >= $4 AND at < $5"
		args = append(args, ms(since), ms(until))
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ClaimWebhookJobs takes up to limit due jobs, except those of the endpoints in skip
// (busy in this process), pushing each a lease ahead before anything is sent (as
// ClaimJobs does for mail).
func (db *DB) ClaimWebhookJobs(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration, skip ...string) ([]*WebhookJob, error) {
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	args := []any{owner, ms(now), limit, ms(now.Add(lease))}
	except := ""
	if len(skip) > 0 {
		ph := make([]string, len(skip))
		for i, id := range skip {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		except = " AND endpoint_id NOT IN (" + strings.Join(ph, ", ") + ")"
	}
	q := "UPDATE webhook_jobs SET attempts = attempts + 1, claimed_by = $1, next_attempt_at = $4" +
		" WHERE id IN (SELECT id FROM webhook_jobs WHERE next_attempt_at <= $2" + except + " ORDER BY next_attempt_at, id LIMIT $3" + lock + ")" +
		" RETURNING id, endpoint_id, tenant_id, event_id, attempts, next_attempt_at, created_at"
	var jobs []*WebhookJob
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		jobs = jobs[:0]
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j WebhookJob
			var next, created int64
			if err := rows.Scan(&j.ID, &j.EndpointID, &j.TenantID, &j.EventID, &j.Attempts, &next, &created); err != nil {
				return err
			}
			j.NextAttemptAt, j.CreatedAt = fromMS(next), fromMS(created)
			jobs = append(jobs, &j)
		}
		return rows.Err()
	})
	return jobs, err
}

// RecordWebhookAttempt logs an attempt and settles its job: delivered or failed (the
// schedule is exhausted) removes it, retrying moves it to next. It also keeps the
// endpoint's failing_since: cleared by a success, set by the first failure after one.
func (tx *Tx) RecordWebhookAttempt(ctx context.Context, j *WebhookJob, a *WebhookAttempt, next time.Time) error {
	if _, err := tx.exec(ctx, "INSERT INTO webhook_attempts (endpoint_id, tenant_id, event_id, attempt, at, status, latency_ms, error, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		j.EndpointID, j.TenantID, j.EventID, j.Attempts, ms(a.At), a.Status, a.Latency.Milliseconds(), a.Error, a.Outcome); err != nil {
		return err
	}
	var err error
	if a.Outcome == "retrying" {
		_, err = tx.exec(ctx, "UPDATE webhook_jobs SET claimed_by = '', next_attempt_at = $1 WHERE id = $2", ms(next), j.ID)
	} else {
		_, err = tx.exec(ctx, "DELETE FROM webhook_jobs WHERE id = $1", j.ID)
	}
	if err != nil {
		return err
	}
	if a.Outcome == "delivered" {
		_, err = tx.exec(ctx, "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL", j.EndpointID)
	} else {
		_, err = tx.exec(ctx, "UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL", ms(a.At), j.EndpointID)
	}
	return err
}

// DisableWebhookEndpoint switches an endpoint off with a reason and drops its pending
// jobs (a replay queues them again once it is re-enabled). It reports whether it was on.
func (tx *Tx) DisableWebhookEndpoint(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled = 1", reason, ms(now), id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = tx.exec(ctx, "DELETE FROM webhook_jobs WHERE endpoint_id = $1", id)
	return true, err
}

// ReleaseWebhookJobs makes jobs claimed by owner due now (graceful shutdown). owner ""
// releases every claimed job — only safe when no other process shares the database
// (SQLite at start).
func (db *DB) ReleaseWebhookJobs(ctx context.Context, owner string, now time.Time) (int64, error) {
	var n int64
	err := db.Write(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.exec(ctx, "UPDATE webhook_jobs SET claimed_by = '', next_attempt_at = $1, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"+
			" WHERE claimed_by <> '' AND ($2 = '' OR claimed_by = $2)", ms(now), owner)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return n, err
}

// WebhookAttempts lists an endpoint's attempts, newest first, before the cursor id
// (0: from the newest).
func (db *DB) WebhookAttempts(ctx context.Context, tenantID, endpointID string, before int64, limit int) ([]*WebhookAttempt, error) {
	if before <= 0 {
		before = 1<<62 - 1
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT id, endpoint_id, tenant_id, event_id, attempt, at, status, latency_ms, error, outcome FROM webhook_attempts"+
		" WHERE tenant_id = $1 AND endpoint_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4", tenantID, endpointID, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*WebhookAttempt
	for rows.Next() {
		var a WebhookAttempt
		var at, lat int64
		if err := rows.Scan(&a.ID, &a.EndpointID, &a.TenantID, &a.EventID, &a.Attempt, &at, &a.Status, &lat, &a.Error, &a.Outcome); err != nil {
			return nil, err
		}
		a.At, a.Latency = fromMS(at), time.Duration(lat)*time.Millisecond
		out = append(out, &a)
	}
	return out, rows.Err()
}

// WebhookQueueStats reports pending webhook jobs and the oldest one's creation time.
func (db *DB) WebhookQueueStats(ctx context.Context) (pending int64, oldest time.Time, err error) {
	var min sql.NullInt64
	err = db.queryRow(ctx, "SELECT COUNT(*), MIN(created_at) FROM webhook_jobs").Scan(&pending, &min)
	return pending, fromNullMS(min), err
}

// Event loads one event of a tenant; tenantID "" is for internal callers.
func (db *DB) Event(ctx context.Context, tenantID string, id int64) (*Event, error) {
	var e Event
	var at int64
	var sandbox int
	err := db.queryRow(ctx, "SELECT id, tenant_id, message_id, recipient_id, type, at, sandbox, data FROM events WHERE id = $1 AND ($2 = '' OR tenant_id = $2)", id, tenantID).
		Scan(&e.ID, &e.TenantID, &e.MessageID, &e.RecipientID, &e.Type, &at, &sandbox, &e.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	e.At, e.Sandbox = fromMS(at), sandbox == 1
	return &e, err
}

// HasDueWebhookJobs reports whether any job is due: a read, so an idle poll costs no
// write (on SQLite, no commit).
func (db *DB) HasDueWebhookJobs(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_jobs WHERE next_attempt_at <= $1 LIMIT 1) due", ms(now)).Scan(&n)
	return n > 0, err
}

// PutBackWebhookJob returns a claimed job unattempted, due at next.
func (tx *Tx) PutBackWebhookJob(ctx context.Context, j *WebhookJob, next time.Time) error {
	_, err := tx.exec(ctx, "UPDATE webhook_jobs SET claimed_by = '', next_attempt_at = $1, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $2", ms(next), j.ID)
	return err
}

// DeleteWebhookJob removes a job that can no longer be delivered (its endpoint is gone
// or disabled, its tenant shredded).
func (tx *Tx) DeleteWebhookJob(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "DELETE FROM webhook_jobs WHERE id = $1", id)
	return err
}
