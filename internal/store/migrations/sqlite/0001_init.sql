-- Times are Unix milliseconds; booleans are 0/1; sealed columns hold AES-256-GCM values.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    key_master_id TEXT NOT NULL,
    key_wrapped BLOB,            -- NULL once shredded
    key_destroyed_at INTEGER
);
CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL UNIQUE,
    verified INTEGER NOT NULL DEFAULT 0,
    verify_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    verified_at INTEGER
);
CREATE INDEX domains_tenant ON domains(tenant_id);
CREATE TABLE dkim_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    domain TEXT NOT NULL,
    selector TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    private_key BLOB NOT NULL,   -- sealed
    dns_name TEXT NOT NULL,
    dns_value TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (domain, selector)
);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);
CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    content BLOB NOT NULL,       -- sealed JSON {subject,text,html}
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX templates_tenant ON templates(tenant_id, id);
CREATE TABLE idempotency (
    tenant_id TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    request_hash BLOB NOT NULL,
    status INTEGER NOT NULL,
    response BLOB NOT NULL,      -- sealed
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key_hash)
);
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    created_at INTEGER NOT NULL,
    from_domain TEXT NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    campaign TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    size INTEGER NOT NULL,
    envelope BLOB NOT NULL,      -- sealed JSON: from, recipients, subject, metadata
    content BLOB                 -- sealed RFC 5322 message; NULL once purged
);
CREATE INDEX messages_tenant ON messages(tenant_id, id);
CREATE TABLE recipients (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages(id),
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    address BLOB NOT NULL,       -- sealed
    address_hash BLOB NOT NULL,  -- keyed hash, for filtering without plaintext
    domain TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    detail BLOB                  -- sealed JSON of the last outcome
);
CREATE INDEX recipients_message ON recipients(message_id);
CREATE INDEX recipients_address ON recipients(tenant_id, address_hash);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_due ON deliveries(held, next_attempt_at);
CREATE TABLE delivery_history (
    id INTEGER PRIMARY KEY,
    recipient_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    finished_at INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    data BLOB                    -- sealed JSON
);
CREATE INDEX events_tenant ON events(tenant_id, id);
CREATE INDEX events_message ON events(message_id);
