-- SecureLine: per-recipient security. DLP findings are categories and counts, never
-- matched text, so they are stored in the clear for reporting; everything naming a
-- person (addresses, keys, policy keywords, decisions) is sealed.
ALTER TABLE messages ADD COLUMN dlp TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recipients ADD COLUMN method TEXT NOT NULL DEFAULT '';
ALTER TABLE recipients ADD COLUMN security BLOB;          -- sealed JSON: candidates, reasons, evidence
CREATE TABLE recipient_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,                                    -- pgp | smime
    address_hash BLOB NOT NULL,
    address BLOB NOT NULL,                                 -- sealed
    key_data BLOB NOT NULL,                                -- sealed JSON: key, fingerprint, algorithm
    source TEXT NOT NULL,                                  -- api | wkd
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, kind, address_hash)
);
CREATE TABLE policies (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    doc BLOB NOT NULL,                                     -- sealed JSON policy
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE cache (
    key TEXT PRIMARY KEY,                                  -- e.g. "tls:example.org"; never an address
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE portal_messages (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX portal_messages_message ON portal_messages(message_id);
CREATE TABLE signing_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,                                    -- pgp | smime
    key_data BLOB NOT NULL,                                 -- sealed JSON: private key, certificate chain
    fingerprint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);
