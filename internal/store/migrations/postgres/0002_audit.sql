-- Tamper-evident audit trail (HIPAA 164.312(b)). Append-only by contract: rows are never
-- updated or deleted. hash = SHA-256(prev_hash || canonical entry); genesis prev_hash is
-- 32 zero bytes. Entries hold ids and outcomes only, never message content.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    tenant_id TEXT NOT NULL DEFAULT '',
    principal TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    object TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '',
    client TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, seq);
CREATE INDEX audit_log_at ON audit_log(at);
-- Signed heads of the chain: seq is the log seq sealed, hash that entry's hash.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    key_id TEXT NOT NULL,
    signature BYTEA NOT NULL
);
