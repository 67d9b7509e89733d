-- Settling a delivery changes its state thousands of times a second while a notice fans out;
-- an index keyed on the state had to move an entry for each. Thread-wide questions (supersede,
-- expire, who was reached) are asked once per notice event, so they can read the thread's rows.
DROP INDEX outbox_thread_state;
CREATE INDEX outbox_by_thread ON outbox(thread);
