-- The sender's alert as received (its CAP elements, as JSON): a relay writes the sender's
-- document back, all of it, so nothing the sender said is lost. The configured source an
-- alert was polled from (none when staff imported it by hand), and what the office found of
-- the sender's XML signature (JSON: unsigned, valid by whom, untrusted, invalid and why).
ALTER TABLE notice_upstream ADD COLUMN alert TEXT;
ALTER TABLE notice_upstream ADD COLUMN source TEXT;
ALTER TABLE notice_upstream ADD COLUMN signature TEXT;
-- 1 when a source's rule marked the alert for fast review (the console raises its alarm).
ALTER TABLE notice_upstream ADD COLUMN fast_review INTEGER NOT NULL DEFAULT 0;
-- What the operator was told about how the document was read (JSON array of sentences).
ALTER TABLE notice_upstream ADD COLUMN warnings TEXT;
