-- Campaigns: one template sent to an audience, approved by a second person, on a
-- schedule and a throttle. The name and the spec (template, audience, A/B, guards)
-- are sealed; the columns are what the scheduler needs to pick work.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name BYTEA NOT NULL,                      -- sealed
    spec BYTEA NOT NULL,                      -- sealed JSON
    state TEXT NOT NULL,                     -- draft | approved | scheduled | running | paused | finished | cancelled
    created_by TEXT NOT NULL,                -- the credential or person (user:<id>) that created it
    approved_by TEXT NOT NULL DEFAULT '',
    send_at BIGINT NOT NULL DEFAULT 0,      -- UTC; the spec keeps the local time and zone
    throttle BIGINT NOT NULL DEFAULT 0,     -- messages per hour; 0 = as fast as the pipeline goes
    credit_at BIGINT NOT NULL DEFAULT 0,    -- sending credit is used up to this moment
    cursor TEXT NOT NULL DEFAULT '',         -- audience expansion: last contact id stored
    expanded BIGINT NOT NULL DEFAULT 0,     -- every recipient is stored
    ab_decide_at BIGINT NOT NULL DEFAULT 0, -- when the A/B winner is chosen (0: no test)
    ab_winner TEXT NOT NULL DEFAULT '',
    paused_reason TEXT NOT NULL DEFAULT '',  -- manual | complaints | bounces
    started_at BIGINT NOT NULL DEFAULT 0,
    finished_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX campaigns_tenant ON campaigns(tenant_id, created_at);
CREATE INDEX campaigns_state ON campaigns(state, send_at);
-- One row per recipient, written in batches as the audience is expanded; status moves
-- from pending to sent in the transaction that stores the message, so a restart
-- neither sends twice nor skips.
CREATE TABLE campaign_recipients (
    campaign_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT '',        -- a | b (A/B sample) | rest (waits for the winner) | '' (no test)
    status TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | skipped
    reason TEXT NOT NULL DEFAULT '',         -- why skipped: suppressed | no_consent | not_allowed | no_contact
    message_id TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_status ON campaign_recipients(campaign_id, status, contact_id);
CREATE INDEX campaign_recipients_message ON campaign_recipients(message_id);
-- Conversions the tenant reports back; value in minor units.
CREATE TABLE campaign_conversions (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    contact_id TEXT NOT NULL DEFAULT '',
    value BIGINT NOT NULL DEFAULT 0,
    key_hash BYTEA,                           -- keyed hash of the caller's idempotency key
    at BIGINT NOT NULL
);
CREATE INDEX campaign_conversions_campaign ON campaign_conversions(campaign_id);
CREATE UNIQUE INDEX campaign_conversions_key ON campaign_conversions(campaign_id, key_hash);
-- Every marketing message (campaign or single send) names the contact and the consent
-- it relies on, so delivery re-checks suppression and consent when its job is claimed.
CREATE TABLE marketing_messages (
    message_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fields TEXT NOT NULL DEFAULT ''          -- ",a,b," contact fields the message uses
);
