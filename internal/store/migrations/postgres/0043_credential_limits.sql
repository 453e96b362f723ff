-- Per-credential access rules: networks a credential may be used from (space-separated
-- CIDR prefixes; empty: any), and a rate limit used instead of the default credential
-- bucket (0: the default).
ALTER TABLE api_keys ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN rate_per_second DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_clients ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN rate_per_second DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE oauth_clients ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;
