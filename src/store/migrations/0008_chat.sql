-- Two-way chat (Telegram, and WhatsApp to come): the conversations the bot holds, every message in and out, the
-- updates already taken in (so a redelivered one changes nothing), and chats subscribing to
-- notices like any other destination.

-- `subscriptions.channel` gains the chat services. SQLite cannot change a CHECK in place, so the
-- table is rebuilt; dropping the old one cascades to its zone index, which is kept aside first.
CREATE TEMP TABLE kept_subscription_zones AS SELECT * FROM subscription_zones;
CREATE TABLE subscriptions_rebuilt (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('webhook', 'webpush', 'email', 'telegram', 'whatsapp')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'active', 'disabled')),
    target          TEXT NOT NULL,
    zones           TEXT NOT NULL DEFAULT '[]',
    lat             REAL,
    lon             REAL,
    severities      TEXT,
    events          TEXT,
    language        TEXT NOT NULL,
    allow_private   INTEGER NOT NULL DEFAULT 0,
    label           TEXT,
    created_by      TEXT,
    created_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    disabled_at     INTEGER,
    disabled_reason TEXT
) STRICT;
INSERT INTO subscriptions_rebuilt SELECT * FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_rebuilt RENAME TO subscriptions;
CREATE INDEX subscriptions_by_endpoint ON subscriptions(json_extract(target, '$.endpoint'))
    WHERE channel = 'webpush';
CREATE INDEX subscriptions_by_address ON subscriptions(json_extract(target, '$.address'))
    WHERE channel = 'email';
-- `/stop` finds every subscription of a chat.
CREATE INDEX subscriptions_by_chat ON subscriptions(json_extract(target, '$.chat_id'))
    WHERE channel = 'telegram';
INSERT INTO subscription_zones SELECT * FROM temp.kept_subscription_zones;
DROP TABLE temp.kept_subscription_zones;

-- One conversation per chat: where the dialog stands and what the citizen has said so far.
-- Personal data (the chat id, the draft's text and position); `/stop` deletes it.
CREATE TABLE chats (
    service    TEXT NOT NULL CHECK (service IN ('telegram', 'whatsapp')),
    chat_id    TEXT NOT NULL,
    language   TEXT NOT NULL,
    -- The dialog's step and draft, as JSON.
    dialog     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (service, chat_id)
) STRICT, WITHOUT ROWID;

-- Every message in and out, for the staff who read a report's conversation. Outgoing rows are
-- what the outbox sends (`outbox.message_id`).
CREATE TABLE chat_messages (
    id         INTEGER PRIMARY KEY,
    service    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    -- The report the conversation produced, once it did.
    report_id  TEXT,
    -- In: what the citizen sent, in words. Out: the message with its buttons, as JSON.
    body       TEXT NOT NULL,
    at         INTEGER NOT NULL
) STRICT;
CREATE INDEX chat_messages_by_chat ON chat_messages(service, chat_id, id);
CREATE INDEX chat_messages_by_report ON chat_messages(report_id) WHERE report_id IS NOT NULL;

-- Updates already taken in, by the service's own id: a redelivered one is answered by nothing.
-- Pruned with the settled deliveries.
CREATE TABLE chat_updates (
    service     TEXT NOT NULL,
    update_key  TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (service, update_key)
) STRICT, WITHOUT ROWID;

-- Where long polling goes on from after a restart (Telegram's getUpdates offset).
CREATE TABLE chat_poll_offsets (
    service     TEXT PRIMARY KEY,
    next_offset INTEGER NOT NULL
) STRICT;

-- A chat message to send: the outgoing `chat_messages` row.
ALTER TABLE outbox ADD COLUMN message_id INTEGER;
