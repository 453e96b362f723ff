-- The archive: a sealed journal of every message in and out. Each entry's content and
-- description (meta) are sealed under a key of its own, itself sealed under the tenant
-- key (key_wrapped): a purge deletes that key and the sealed values (crypto-shredding)
-- and keeps the row as a tombstone so the journal's audit record still has its entry.
-- digest is SHA-256 over the row's fields and sealed values, committed to the audit
-- chain when the entry is written. labels holds keyed hashes of tags and campaign.
CREATE TABLE archive_entries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    labels TEXT NOT NULL DEFAULT '',
    key_wrapped BLOB,                        -- sealed; NULL once purged
    content BLOB,                            -- sealed; NULL once purged
    meta BLOB,                               -- sealed; NULL once purged
    sealed_sum BLOB NOT NULL,
    digest BLOB NOT NULL,
    purged_at INTEGER
);
CREATE INDEX archive_entries_tenant_at ON archive_entries(tenant_id, at, id);
-- The blind index: keyed hashes of normalised words, never the words.
CREATE TABLE archive_terms (
    term BLOB NOT NULL,
    entry_id TEXT NOT NULL,
    PRIMARY KEY (term, entry_id)
) WITHOUT ROWID;
CREATE INDEX archive_terms_entry ON archive_terms(entry_id);
-- Retention rules: an empty direction, tag and campaign is the tenant's default.
CREATE TABLE archive_rules (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    direction TEXT NOT NULL DEFAULT '',
    tag_hash TEXT NOT NULL DEFAULT '',
    campaign_hash TEXT NOT NULL DEFAULT '',
    label BLOB,                              -- sealed: the tag or campaign as typed
    days INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX archive_rules_tenant ON archive_rules(tenant_id);
-- Legal holds: every criterion given must match; a held entry is never purged.
CREATE TABLE archive_holds (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    released_at INTEGER,
    name BLOB,                               -- sealed
    since INTEGER,
    until INTEGER,
    address_hash BLOB,                       -- keyed hash of the address
    query BLOB                               -- sealed search query (JSON)
);
CREATE INDEX archive_holds_tenant ON archive_holds(tenant_id);
