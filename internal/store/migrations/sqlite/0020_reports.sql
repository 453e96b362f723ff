-- Reports. Statistics are served from rollups written in the same transaction as the
-- events they count, never from scans of the events table.
--
-- report_dims: the groups each message counts under besides its recipient's domain and
-- method: campaign, tag, from address, subject and metadata values, each a per-tenant
-- keyed hash (dim names for metadata hash the key too), so nothing here is readable.
CREATE TABLE report_dims (
    message_id TEXT NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (message_id, dim, value)
);
-- report_labels: the sealed text shown for a hashed group value (a subject, an address).
CREATE TABLE report_labels (
    tenant_id TEXT NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    label BLOB NOT NULL,         -- sealed
    PRIMARY KEY (tenant_id, dim, value)
);
-- report_rollups: counts per group value and hour (bucket: Unix ms of the hour's start).
-- dim '' with value '' is the tenant's total. Sandbox traffic is never counted. Concurrent
-- transactions add to different shards of a row, so they do not queue on one hot row;
-- reading sums the shards.
CREATE TABLE report_rollups (
    tenant_id TEXT NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    deferred INTEGER NOT NULL DEFAULT 0,
    bounced INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    opened INTEGER NOT NULL DEFAULT 0,
    opened_proxy INTEGER NOT NULL DEFAULT 0,
    opened_machine INTEGER NOT NULL DEFAULT 0,
    clicked INTEGER NOT NULL DEFAULT 0,
    clicked_proxy INTEGER NOT NULL DEFAULT 0,
    clicked_machine INTEGER NOT NULL DEFAULT 0,
    unsubscribed INTEGER NOT NULL DEFAULT 0,
    complained INTEGER NOT NULL DEFAULT 0,
    secured_tls INTEGER NOT NULL DEFAULT 0,
    secured_pgp INTEGER NOT NULL DEFAULT 0,
    secured_smime INTEGER NOT NULL DEFAULT 0,
    secured_portal INTEGER NOT NULL DEFAULT 0,
    secured_none INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, dim, value, bucket, shard)
);
-- report_firsts: which recipients have already counted toward a unique counter
-- (opened, clicked per class; unsubscribed; complained).
CREATE TABLE report_firsts (
    recipient_id TEXT NOT NULL,
    counter TEXT NOT NULL,
    PRIMARY KEY (recipient_id, counter)
);
