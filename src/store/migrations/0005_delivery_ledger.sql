-- One delivery ledger for every channel: what each notice reached, per channel and kind of
-- destination (WebSocket sessions, MQTT topics, and whatever a new channel counts), so a new
-- channel needs no new column.
CREATE TABLE deliveries (
    notice_id   TEXT NOT NULL,
    channel     TEXT NOT NULL,   -- websocket, mqtt, ...
    destination TEXT NOT NULL,   -- what is counted: sessions, topics, ...
    delivered   INTEGER NOT NULL CHECK (delivered >= 0),
    PRIMARY KEY (notice_id, channel, destination)
) STRICT, WITHOUT ROWID;

INSERT INTO deliveries (notice_id, channel, destination, delivered)
    SELECT notice_id, 'websocket', 'sessions', ws_sessions FROM notice_deliveries;
INSERT INTO deliveries (notice_id, channel, destination, delivered)
    SELECT notice_id, 'mqtt', 'topics', mqtt_topics FROM notice_deliveries;
DROP TABLE notice_deliveries;
