-- WhatsApp accepts a message and only later, in a status notification, says it failed because
-- the person's 24 hours had passed (131047). The id it gave the message (`sent_as`) finds the
-- delivery again, and the chat remembers when its window was found closed, so that the next
-- attempt, and every message after it until the person writes, goes as an approved template.
ALTER TABLE outbox ADD COLUMN sent_as TEXT;
CREATE INDEX outbox_sent_as ON outbox(sent_as) WHERE sent_as IS NOT NULL;
ALTER TABLE chats ADD COLUMN window_closed_at INTEGER;
-- A failure notified before the hub recorded the message as sent (the notification can
-- overtake the outcome on its way to the store): the outcome finds it here. Kept a day.
CREATE TABLE late_refusals (
    channel    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    error      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (channel, message_id)
) STRICT, WITHOUT ROWID;
