-- What an imported notice came with that the hub's own notices do not have: the CAP
-- `references` of an Update or Cancel whose original this hub never received (so its relay
-- still says what it updates), and the sender's `senderName` (so the relay goes out under the
-- sender's name, not the office's).
CREATE TABLE notice_upstream (
    notice_id   TEXT PRIMARY KEY REFERENCES notices(id) ON DELETE CASCADE,
    refs        TEXT,
    sender_name TEXT
) STRICT, WITHOUT ROWID;
