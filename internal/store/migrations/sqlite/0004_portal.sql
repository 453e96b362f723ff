-- The secure portal. A portal copy is the message as built, sealed under a key of its
-- own (content_key, itself sealed under the tenant key): destroying that key on expiry
-- or revocation makes the copy unreadable for good, whatever backups hold.
ALTER TABLE portal_messages ADD COLUMN content BLOB;
ALTER TABLE portal_messages ADD COLUMN content_key BLOB;                 -- NULL once destroyed
ALTER TABLE portal_messages ADD COLUMN passphrase_hash BLOB;             -- the sender's passphrase, argon2id; NULL: emailed codes
ALTER TABLE portal_messages ADD COLUMN code_hash BLOB;                   -- the current access code, keyed hash; NULL when none
ALTER TABLE portal_messages ADD COLUMN code_expires_at INTEGER;
ALTER TABLE portal_messages ADD COLUMN code_sent_at INTEGER;
ALTER TABLE portal_messages ADD COLUMN code_sends INTEGER NOT NULL DEFAULT 0;   -- codes sent since code_window_start
ALTER TABLE portal_messages ADD COLUMN code_window_start INTEGER;
ALTER TABLE portal_messages ADD COLUMN failures INTEGER NOT NULL DEFAULT 0; -- wrong codes since the last success or lock
ALTER TABLE portal_messages ADD COLUMN locked_until INTEGER;
ALTER TABLE portal_messages ADD COLUMN destroyed_at INTEGER;
ALTER TABLE portal_messages ADD COLUMN destroyed_why TEXT NOT NULL DEFAULT '';  -- expired | revoked
ALTER TABLE portal_messages ADD COLUMN views INTEGER NOT NULL DEFAULT 0;
ALTER TABLE portal_messages ADD COLUMN last_viewed_at INTEGER;
CREATE INDEX portal_messages_expiry ON portal_messages(expires_at) WHERE destroyed_at IS NULL;
CREATE TABLE portal_sessions (
    id_hash BLOB PRIMARY KEY,                                  -- the cookie's hash; the cookie itself is never stored
    portal_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL                                   -- absolute end; idle end is last_seen_at + idle
);
CREATE INDEX portal_sessions_portal ON portal_sessions(portal_id);
CREATE TABLE portal_client_failures (
    client TEXT PRIMARY KEY,                                 -- client IP address
    window_start INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER
);
CREATE TABLE portal_replies (
    id TEXT PRIMARY KEY,
    portal_id TEXT NOT NULL,
    reply_message_id TEXT NOT NULL,                          -- the reply, an ordinary sealed message
    created_at INTEGER NOT NULL
);
CREATE INDEX portal_replies_portal ON portal_replies(portal_id, created_at);
CREATE TABLE portal_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    doc TEXT NOT NULL,                                       -- JSON: branding, notification template, expiry bounds
    updated_at INTEGER NOT NULL
);
