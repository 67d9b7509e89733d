-- The sender's alert as received (its CAP elements, as JSON): a relay writes the sender's
-- document back, all of it, so nothing the sender said is lost. And the configured source an
-- alert was polled from (none when staff imported it by hand).
ALTER TABLE notice_upstream ADD COLUMN alert TEXT;
ALTER TABLE notice_upstream ADD COLUMN source TEXT;
