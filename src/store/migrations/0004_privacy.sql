-- Follow tokens: each acknowledgement gives the reporter a secret that opens the updates on
-- that report, and only those. Only the SHA-256 of a token is kept.
CREATE TABLE report_follow_tokens (
    token_hash BLOB PRIMARY KEY,
    report_seq INTEGER NOT NULL REFERENCES reports(seq) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX report_follow_tokens_by_report ON report_follow_tokens(report_seq);

-- A report's text is public (in Open311) only after an operator publishes it, until this time.
ALTER TABLE reports ADD COLUMN public_until INTEGER;

-- Reporters now follow reports (by token), not devices.
CREATE INDEX report_updates_by_report ON report_updates(report_seq, seq);
