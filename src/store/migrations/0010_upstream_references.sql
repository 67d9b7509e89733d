-- An imported Update or Cancel whose original this hub never received keeps the CAP
-- `references` it came with, so that its relay still says what it updates or cancels.
CREATE TABLE notice_upstream_references (
    notice_id  TEXT PRIMARY KEY REFERENCES notices(id) ON DELETE CASCADE,
    refs       TEXT NOT NULL
) STRICT, WITHOUT ROWID;
