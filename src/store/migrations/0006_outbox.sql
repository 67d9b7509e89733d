-- The durable outbox: who is sent what beyond the live connections (webhooks, Web Push,
-- e-mail), one row per destination written in the same transaction as the event it carries.

-- A destination that asked (or was registered) to receive notices.
CREATE TABLE subscriptions (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('webhook', 'webpush', 'email')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'active', 'disabled')),
    -- Where to send, per channel (a URL and its secret, a push endpoint and its keys, an
    -- address): personal data for citizens, never listed in exports.
    target          TEXT NOT NULL,
    -- Zone ids; an empty array means every zone (webhooks only).
    zones           TEXT NOT NULL DEFAULT '[]',
    -- A point subscription (Web Push from the citizens' page): delivered when the area covers it.
    lat             REAL,
    lon             REAL,
    -- JSON arrays of CAP severities and event kinds (alert, update, cancel, expired); NULL = all.
    severities      TEXT,
    events          TEXT,
    language        TEXT NOT NULL,
    -- Set by an admin: this destination may be on loopback or a private network.
    allow_private   INTEGER NOT NULL DEFAULT 0,
    label           TEXT,
    created_by      TEXT,
    created_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    disabled_at     INTEGER,
    disabled_reason TEXT
) STRICT;

-- A browser re-subscribing or leaving is found by its endpoint, an e-mail by its address,
-- without reading every subscription.
CREATE INDEX subscriptions_by_endpoint ON subscriptions(json_extract(target, '$.endpoint'))
    WHERE channel = 'webpush';
CREATE INDEX subscriptions_by_address ON subscriptions(json_extract(target, '$.address'))
    WHERE channel = 'email';

-- Which subscriptions listen to which zone, so an event finds its destinations by index.
CREATE TABLE subscription_zones (
    zone_id         TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    PRIMARY KEY (zone_id, subscription_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX subscription_zones_by_subscription ON subscription_zones(subscription_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    -- A subscription id, or `report:<id>` for a reporter's own address: order is kept per
    -- destination and thread.
    destination     TEXT NOT NULL,
    -- The notice thread, or the report id.
    thread          TEXT NOT NULL,
    -- alert, update, cancel, expired (notices), report_update (a reporter's status).
    kind            TEXT NOT NULL,
    notice_id       TEXT,
    event_seq       INTEGER,
    report_id       TEXT,
    update_cursor   INTEGER,
    -- 0 Actual and Immediate, 1 other Actual, 2 a reporter's update, 3 Exercise, Test, System.
    priority        INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN
        ('queued', 'retrying', 'delivered', 'failed', 'dead', 'superseded', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox(channel, priority, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX outbox_thread ON outbox(destination, thread, id);
CREATE INDEX outbox_thread_state ON outbox(thread, state);
CREATE INDEX outbox_notice ON outbox(notice_id) WHERE notice_id IS NOT NULL;
CREATE INDEX outbox_report ON outbox(report_id) WHERE report_id IS NOT NULL;
