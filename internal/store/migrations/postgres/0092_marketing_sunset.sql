-- Sunset policy: contacts with no human engagement for a tenant's chosen number of
-- days are suppressed for marketing. The class of an opened or clicked event (human,
-- proxy, machine) gets a column so engagement is found by a query, not by opening
-- sealed event details; it says no more than the per-recipient report counters do.
ALTER TABLE events ADD COLUMN class TEXT NOT NULL DEFAULT '';
CREATE INDEX marketing_messages_contact ON marketing_messages(contact_id);
CREATE TABLE marketing_settings (
    tenant_id TEXT PRIMARY KEY,
    sunset_days BIGINT NOT NULL DEFAULT 0,  -- 0: no sunset policy
    updated_at BIGINT NOT NULL
);
CREATE INDEX marketing_settings_sunset ON marketing_settings(sunset_days);
