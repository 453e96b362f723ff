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
    password_hash BYTEA,
    totp_secret BYTEA,
    totp_step BIGINT NOT NULL DEFAULT 0,
    mfa_enabled BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    last_sign_in BIGINT
);
CREATE INDEX users_tenant ON users(tenant_id);
-- Recovery codes: hashes only, each usable once.
CREATE TABLE user_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    hash BYTEA NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, hash)
);
-- Sessions: the cookie's hash. stage is 'mfa' (password accepted, second factor
-- owed), 'enroll' (invitation accepted, second factor being set up) or 'full'.
CREATE TABLE user_sessions (
    id TEXT PRIMARY KEY,
    hash BYTEA NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    client TEXT NOT NULL DEFAULT ''
);
CREATE INDEX user_sessions_user ON user_sessions(user_id);
-- Invitations: the link token's hash; used once, before it expires.
CREATE TABLE user_invitations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    hash BYTEA NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX user_invitations_tenant ON user_invitations(tenant_id);
