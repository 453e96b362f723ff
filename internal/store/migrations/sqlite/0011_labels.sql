-- messages.campaign and messages.tags now hold per-tenant keyed hashes of the caller's
-- labels (the labels themselves are sealed in the envelope). Events are filtered by
-- campaign through this index.
CREATE INDEX messages_campaign ON messages(tenant_id, campaign) WHERE campaign <> '';
