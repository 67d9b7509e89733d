-- Follow tokens: each acknowledgement gives the reporter a secret that opens the updates on
-- that report, and only those. Only the SHA-256 of a token is kept: the first in the report's
-- row, those of retries (each answer carries a fresh token) here.
ALTER TABLE reports ADD COLUMN follow_token_hash BLOB;
CREATE TABLE report_follow_tokens (
    report_seq INTEGER NOT NULL REFERENCES reports(seq) ON DELETE CASCADE,
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (report_seq, token_hash)
) STRICT, WITHOUT ROWID;

-- A report's text is public (in Open311) only after an operator publishes it, until this time.
ALTER TABLE reports ADD COLUMN public_until INTEGER;

-- Reporters now follow reports (by token), not devices.
CREATE INDEX report_updates_by_report ON report_updates(report_seq, seq);
