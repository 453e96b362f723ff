-- Marketing audience: contacts, their custom fields, lists, topics, consent records and
-- suppression. Every value a tenant or a contact supplies is sealed; what lookups and
-- segment filters need is a keyed hash (per tenant), never the value.
CREATE TABLE marketing_fields (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,                      -- schema, not data: [a-z][a-z0-9_]*
    type TEXT NOT NULL,                      -- string | number | date | boolean | list
    filterable INTEGER NOT NULL DEFAULT 0,   -- keyed-hash index rows are kept for it
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    email_hash BLOB NOT NULL,                -- tenant.Keys.AddressHash
    email BLOB NOT NULL,                     -- sealed
    fields BLOB NOT NULL,                    -- sealed JSON
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_email ON contacts(tenant_id, email_hash);
CREATE INDEX contacts_tenant ON contacts(tenant_id, id);
-- One row per keyed hash a filterable field value yields (equality, or the prefixes of
-- an ordered value): segments match hashes, never values.
CREATE TABLE contact_index (
    tenant_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    h BLOB NOT NULL
);
CREATE INDEX contact_index_h ON contact_index(tenant_id, h, contact_id);
CREATE INDEX contact_index_contact ON contact_index(contact_id);
CREATE TABLE marketing_lists (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name BLOB NOT NULL,                      -- sealed
    public INTEGER NOT NULL DEFAULT 0,
    double_optin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX marketing_lists_tenant ON marketing_lists(tenant_id);
CREATE TABLE list_members (
    list_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    status TEXT NOT NULL,                    -- pending | confirmed | unsubscribed
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (list_id, contact_id)
);
CREATE INDEX list_members_contact ON list_members(contact_id);
CREATE TABLE marketing_topics (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name BLOB NOT NULL,                      -- sealed
    description BLOB,                        -- sealed
    created_at INTEGER NOT NULL
);
CREATE INDEX marketing_topics_tenant ON marketing_topics(tenant_id);
CREATE TABLE topic_subscriptions (
    topic_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    subscribed INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (topic_id, contact_id)
);
CREATE INDEX topic_subscriptions_contact ON topic_subscriptions(contact_id);
-- Consent and authorisation records outlive their contact: retain_until is set six
-- years after the contact is deleted (45 CFR 164.530(j)); the address stays sealed.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    email_hash BLOB NOT NULL,
    kind TEXT NOT NULL,                      -- hipaa_authorization | email_opt_in | double_opt_in
    purposes TEXT NOT NULL,                  -- ",a,b,"
    fields TEXT NOT NULL,                    -- ",name,plan," fields allowed for personalisation
    detail BLOB NOT NULL,                    -- sealed JSON: address, obtained via, notes
    evidence_hash TEXT NOT NULL DEFAULT '',
    remuneration INTEGER NOT NULL DEFAULT 0,
    obtained_at INTEGER NOT NULL,
    expires_at INTEGER,
    expiry_event TEXT NOT NULL DEFAULT '',
    expired_at INTEGER,
    revoked_at INTEGER,
    revoked_via TEXT NOT NULL DEFAULT '',
    contact_deleted_at INTEGER,
    retain_until INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX consents_contact ON consents(contact_id);
CREATE INDEX consents_tenant ON consents(tenant_id, created_at);
CREATE INDEX consents_due ON consents(expires_at);
CREATE TABLE suppressions (
    tenant_id TEXT NOT NULL,
    email_hash BLOB NOT NULL,
    scope TEXT NOT NULL,                     -- marketing | transactional
    reason TEXT NOT NULL,                    -- unsubscribed | hard_bounce | complaint | manual
    email BLOB NOT NULL,                     -- sealed
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, email_hash, scope)
);
-- Saved segments: the filter is sealed (its values may say what a contact has).
CREATE TABLE marketing_segments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name BLOB NOT NULL,                      -- sealed
    filter BLOB NOT NULL,                    -- sealed JSON
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX marketing_segments_tenant ON marketing_segments(tenant_id);
