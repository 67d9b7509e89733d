-- WhatsApp chats subscribe like Telegram's. A chat's subscriptions are found by its id whatever
-- the service: the query names its channel by a parameter, which a partial index on one channel
-- cannot serve, so the index covers every row (the id is NULL for other channels).
DROP INDEX subscriptions_by_chat;
CREATE INDEX subscriptions_by_chat ON subscriptions(json_extract(target, '$.chat_id'));
