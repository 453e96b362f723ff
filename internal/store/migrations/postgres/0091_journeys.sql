-- Journeys (drip sequences). A journey's definition (steps, templates) is the
-- tenant's configuration and may name people, so it is sealed, as is its name;
-- trigger_hash is a keyed hash of the event name, by which an API event finds the
-- journeys it starts.
CREATE TABLE journeys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name BYTEA NOT NULL,                       -- sealed
    state TEXT NOT NULL,                      -- draft, active, paused, archived
    trigger_kind TEXT NOT NULL,               -- event, date, segment
    trigger_hash BYTEA,
    definition BYTEA NOT NULL,                 -- sealed
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX journeys_tenant ON journeys(tenant_id, id);
CREATE INDEX journeys_trigger ON journeys(tenant_id, trigger_hash);
CREATE INDEX journeys_state ON journeys(state, trigger_kind);
-- One row per contact's pass through a journey. entry_key is a keyed hash of what
-- started it (an event's idempotency key, a date, a segment entry): the same key
-- starts one run. live is 1 while the run is active and NULL after, so the unique
-- constraint allows one live run per contact and journey (NULLs are distinct).
-- due_at is when the step at index step is due (NULL once ended); claimed_by and the
-- lease pushed into due_at work like the delivery queue's claims.
CREATE TABLE journey_runs (
    id TEXT PRIMARY KEY,
    journey_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    entry_key BYTEA NOT NULL,
    step BIGINT NOT NULL,
    state TEXT NOT NULL,                      -- active, done, stopped
    live INTEGER,
    due_at BIGINT,
    claimed_by TEXT NOT NULL DEFAULT '',
    attempts BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (journey_id, entry_key),
    UNIQUE (journey_id, contact_id, live)
);
CREATE INDEX journey_runs_due ON journey_runs(due_at);
CREATE INDEX journey_runs_journey ON journey_runs(tenant_id, journey_id, id);
-- Each step a run has taken, written in the transaction that advances the run (and,
-- for a send, in the message's own transaction): the primary key makes taking a step
-- twice impossible. outcome: sent, waited, yes, no, exit, skipped.
CREATE TABLE journey_steps (
    run_id TEXT NOT NULL,
    journey_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX journey_steps_journey ON journey_steps(journey_id, step);
-- Members of a segment-triggered journey's segment at its last scan: a contact not
-- here when scanned has entered; one gone from the segment leaves this table.
CREATE TABLE journey_members (
    journey_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (journey_id, contact_id)
);
