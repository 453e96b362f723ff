-- Anomaly detection: the networks each credential has used, the anomalies raised (one
-- row per credential, kind and window: raised once however many processes see it),
-- and each tenant's choice to suspend a credential on an anomaly.
CREATE TABLE access_networks (
    credential_id TEXT NOT NULL,
    network TEXT NOT NULL,                   -- an IPv4 /24 or IPv6 /48
    tenant_id TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (credential_id, network)
);
CREATE TABLE access_anomalies (
    credential_id TEXT NOT NULL,
    kind TEXT NOT NULL,                      -- volume | new_network
    window_key TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (credential_id, kind, window_key)
);
CREATE TABLE access_settings (
    tenant_id TEXT PRIMARY KEY,
    suspend_on_anomaly BIGINT NOT NULL DEFAULT 0
);
