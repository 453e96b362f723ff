-- The secure portal. A portal copy is the message as built, sealed under a key of its
-- own (content_key, itself sealed under the tenant key): destroying that key on expiry
-- or revocation makes the copy unreadable for good, whatever backups hold.
ALTER TABLE portal_messages ADD COLUMN content BYTEA;
ALTER TABLE portal_messages ADD COLUMN content_key BYTEA;                 -- NULL once destroyed
ALTER TABLE portal_messages ADD COLUMN passphrase_hash BYTEA;             -- the sender's passphrase, argon2id; NULL: emailed codes
ALTER TABLE portal_messages ADD COLUMN code_hash BYTEA;                   -- the current access code, keyed hash; NULL when none
ALTER TABLE portal_messages ADD COLUMN code_expires_at BIGINT;
ALTER TABLE portal_messages ADD COLUMN code_sent_at BIGINT;
ALTER TABLE portal_messages ADD COLUMN code_sends BIGINT NOT NULL DEFAULT 0;   -- codes sent since code_window_start
ALTER TABLE portal_messages ADD COLUMN code_window_start BIGINT;
ALTER TABLE portal_messages ADD COLUMN failures BIGINT NOT NULL DEFAULT 0; -- wrong codes since the last success or lock
ALTER TABLE portal_messages ADD COLUMN locked_until BIGINT;
ALTER TABLE portal_messages ADD COLUMN destroyed_at BIGINT;
ALTER TABLE portal_messages ADD COLUMN destroyed_why TEXT NOT NULL DEFAULT '';  -- expired | revoked
ALTER TABLE portal_messages ADD COLUMN views BIGINT NOT NULL DEFAULT 0;
ALTER TABLE portal_messages ADD COLUMN last_viewed_at BIGINT;
CREATE INDEX portal_messages_expiry ON portal_messages(expires_at) WHERE destroyed_at IS NULL;
CREATE TABLE portal_sessions (
    id_hash BYTEA PRIMARY KEY,                                  -- the cookie's hash; the cookie itself is never stored
    portal_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL                                   -- absolute end; idle end is last_seen_at + idle
);
CREATE INDEX portal_sessions_portal ON portal_sessions(portal_id);
CREATE TABLE portal_client_failures (
    client TEXT PRIMARY KEY,                                 -- client IP address
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT
);
CREATE TABLE portal_replies (
    id TEXT PRIMARY KEY,
    portal_id TEXT NOT NULL,
    reply_message_id TEXT NOT NULL,                          -- the reply, an ordinary sealed message
    created_at BIGINT NOT NULL
);
CREATE INDEX portal_replies_portal ON portal_replies(portal_id, created_at);
CREATE TABLE portal_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    doc TEXT NOT NULL,                                       -- JSON: branding, notification template, expiry bounds
    updated_at BIGINT NOT NULL
);
