-- Secure forms. A form's definition (fields, destinations, texts) is the tenant's
-- configuration and may name people, so it is sealed; name is a label the
-- administrator chooses. The hosted page's URL token is found by its hash and kept
-- sealed so the URL can be shown again.
CREATE TABLE forms (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,          -- SHA-256 of the URL token
    token BLOB NOT NULL,                      -- sealed
    definition BLOB NOT NULL,                 -- sealed
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX forms_tenant ON forms(tenant_id, id);
-- One row per accepted submission. content (the values, when the form stores them for
-- the dashboard) is sealed; evidence_hash is SHA-256 of the signed submission, kept
-- for consent records; expires_at is the form's retention.
CREATE TABLE form_submissions (
    id TEXT PRIMARY KEY,
    form_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    evidence_hash BLOB,
    consent_id TEXT NOT NULL DEFAULT '',
    content BLOB                              -- sealed
);
CREATE INDEX form_submissions_form ON form_submissions(tenant_id, form_id, id);
CREATE INDEX form_submissions_expiry ON form_submissions(expires_at);
