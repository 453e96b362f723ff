-- People who sign in to the dashboard. Staff addresses are the tenant's own accounts,
-- not patients'; they are kept in clear so sign-in can find the account without a
-- tenant name. Passwords are argon2id hashes; the TOTP secret is sealed under the
-- tenant key; totp_step is the last time step accepted, so a code is never taken twice.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    password_hash BLOB,
    totp_secret BLOB,
    totp_step INTEGER NOT NULL DEFAULT 0,
    mfa_enabled INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    disabled_at INTEGER,
    created_at INTEGER NOT NULL,
    last_sign_in INTEGER
);
CREATE INDEX users_tenant ON users(tenant_id);
-- Recovery codes: hashes only, each usable once.
CREATE TABLE user_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    hash BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, hash)
);
-- Sessions: the cookie's hash. stage is 'mfa' (password accepted, second factor
-- owed), 'enroll' (invitation accepted, second factor being set up) or 'full'.
CREATE TABLE user_sessions (
    id TEXT PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    client TEXT NOT NULL DEFAULT ''
);
CREATE INDEX user_sessions_user ON user_sessions(user_id);
-- Invitations: the link token's hash; used once, before it expires.
CREATE TABLE user_invitations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    hash BLOB NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX user_invitations_tenant ON user_invitations(tenant_id);
