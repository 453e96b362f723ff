-- Inbound gateway: the domains a tenant protects (their MX points at Sealpost), each
-- with the host its mail is forwarded to and the policy applied on the way.
CREATE TABLE inbound_domains (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    domain TEXT NOT NULL UNIQUE,
    smart_host TEXT NOT NULL,
    dmarc_action TEXT NOT NULL,
    attachment_action TEXT NOT NULL,
    dlp_action TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inbound_domains_tenant ON inbound_domains(tenant_id);
-- Inbound messages: accepted mail, sealed, held in quarantine or waiting to be
-- forwarded (a row with status 'queued' is the forwarding job, written in the same
-- transaction as the 250). Reasons are codes, never content.
CREATE TABLE inbound_messages (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    envelope BYTEA NOT NULL,
    verdict BYTEA NOT NULL,
    content BYTEA,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
CREATE INDEX inbound_messages_tenant ON inbound_messages(tenant_id, status, created_at);
CREATE INDEX inbound_messages_due ON inbound_messages(status, next_attempt_at);
