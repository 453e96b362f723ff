-- Passkeys (WebAuthn credentials) people register as a second factor: the public key
-- only, the signature counter (one that goes back is refused as a possible clone),
-- the transports the browser reported and the authenticator model's AAGUID.
CREATE TABLE user_passkeys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    credential_id BYTEA NOT NULL UNIQUE,
    public_key BYTEA NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    transports TEXT NOT NULL DEFAULT '',
    aaguid BYTEA,
    flags BIGINT NOT NULL DEFAULT 0,
    attestation TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX user_passkeys_user ON user_passkeys(user_id);
-- A WebAuthn ceremony under way: its challenge, bound to one session and taken once.
CREATE TABLE webauthn_ceremonies (
    session_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    data BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
-- A tenant's OpenID Connect provider for single sign-on. The client secret is sealed
-- under the tenant key (it must be sent to the provider, so it cannot be hashed);
-- email_domain picks the provider from the address typed on the sign-in page.
CREATE TABLE oidc_providers (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret BYTEA NOT NULL,
    email_domain TEXT NOT NULL UNIQUE,
    trust_amr BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
-- A single sign-on under way: the hash of its short-lived cookie, with the state,
-- nonce and PKCE verifier the callback must match; taken once.
CREATE TABLE oidc_logins (
    hash BYTEA PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
