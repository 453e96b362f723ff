-- Keys that sign requests (RFC 9421), registered on an OAuth client; sessions opened
-- by a signed request; and the nonces seen, against replay.
CREATE TABLE access_signature_keys (
    id TEXT PRIMARY KEY,                     -- the keyid
    client_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    alg TEXT NOT NULL,                       -- ed25519 | hmac-sha256
    public_key BLOB,                         -- ed25519
    secret BLOB,                             -- hmac-sha256, sealed under the tenant key
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX access_signature_keys_client ON access_signature_keys(client_id);
CREATE TABLE access_sessions (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX access_sessions_client ON access_sessions(client_id);
CREATE INDEX access_sessions_tenant ON access_sessions(tenant_id, created_at);
CREATE TABLE access_nonces (
    key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX access_nonces_expires ON access_nonces(expires_at);
