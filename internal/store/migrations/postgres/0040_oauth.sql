-- OAuth 2.0 clients (client credentials grant) and the access tokens issued to them.
-- Secrets and tokens are stored only as hashes; public_jwk is a public key.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    secret_hash BYTEA,                        -- NULL: the client authenticates only with private_key_jwt
    public_jwk TEXT NOT NULL DEFAULT '',     -- JWK for private_key_jwt
    scopes TEXT NOT NULL,
    sandbox BIGINT NOT NULL DEFAULT 0,
    token_format TEXT NOT NULL DEFAULT 'opaque',
    token_ttl BIGINT NOT NULL,              -- seconds
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oauth_clients_tenant ON oauth_clients(tenant_id);
CREATE TABLE oauth_tokens (
    hash BYTEA PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    sandbox BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oauth_tokens_client ON oauth_tokens(client_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens(expires_at);
-- Client assertion ids seen, kept until the assertion expires: a replayed jti is refused.
CREATE TABLE oauth_assertions (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
-- The server's key for JWT access tokens, wrapped by the master key.
CREATE TABLE oauth_signing_keys (
    id TEXT PRIMARY KEY,
    master_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
