-- Open and click tracking. A tracked link carries only an opaque token: the row's id and
-- a keyed MAC. The target URL is sealed here and never appears in the clear.
CREATE TABLE tracking_links (
    id TEXT PRIMARY KEY,         -- 16 random bytes, hex
    tenant_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    kind TEXT NOT NULL,          -- open (the pixel), click, decoy (a hidden link only machines follow)
    target BYTEA,                 -- sealed; clicks only
    created_at BIGINT NOT NULL
);
CREATE INDEX tracking_links_recipient ON tracking_links(recipient_id);
