-- SMTP credentials: a tenant's username and password for submission, stored like API
-- keys (the password is 256 random bits, so a fast hash is the right way to keep it).
CREATE TABLE smtp_credentials (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    hash BYTEA NOT NULL,
    scopes TEXT NOT NULL,
    sandbox BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX smtp_credentials_tenant ON smtp_credentials(tenant_id);
-- Failed SMTP AUTH attempts, per client address and per username (the key is a hash of
-- either), counted in the database so every process sees the same count.
CREATE TABLE smtp_auth_failures (
    key BYTEA PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- Relay proofs: what a tenant's own mail servers (Google Workspace, Microsoft 365) show
-- to be relayed for one of its domains — a DKIM selector it registered (kind 'dkim',
-- value the selector) or the SHA-256 of a pinned client certificate (kind 'cert').
CREATE TABLE smtp_relay_proofs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, domain, kind, value)
);
CREATE INDEX smtp_relay_proofs_domain ON smtp_relay_proofs(domain);
