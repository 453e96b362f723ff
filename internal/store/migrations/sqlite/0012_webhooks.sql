-- Webhooks. An endpoint's URL and description are the tenant's configuration, sealed
-- like everything a caller writes; types is a comma-separated filter ('' = every type).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    url BLOB NOT NULL,                       -- sealed
    description BLOB,                        -- sealed
    types TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    include_address INTEGER NOT NULL DEFAULT 0, -- payloads may carry the recipient's address
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    failing_since INTEGER,                     -- first failure since the last success
    disabled_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints(tenant_id);
-- Signing secrets: the current one has no expiry; during a rotation's overlap the old
-- one signs beside the new until expires_at.
CREATE TABLE webhook_secrets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL,
    secret BLOB NOT NULL,                    -- sealed
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX webhook_secrets_endpoint ON webhook_secrets(endpoint_id);
-- Each tenant's Ed25519 key for v1a signatures.
CREATE TABLE webhook_keys (
    tenant_id TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,               -- sealed
    public_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
-- One job per event and endpoint, written in the same transaction as the event.
CREATE TABLE webhook_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_jobs_due ON webhook_jobs(next_attempt_at);
CREATE INDEX webhook_jobs_endpoint ON webhook_jobs(endpoint_id);
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER NOT NULL,                   -- HTTP status; 0 when no answer came
    latency_ms INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL                     -- delivered | retrying | failed | disabled
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts(endpoint_id, id);
