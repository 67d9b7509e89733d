-- The sender's alert as received (its CAP elements, as JSON): a relay writes the sender's
-- document back, all of it, so nothing the sender said is lost.
ALTER TABLE notice_upstream ADD COLUMN alert TEXT;
