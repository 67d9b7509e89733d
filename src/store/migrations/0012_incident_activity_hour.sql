-- Intake counts every report into its incident. The index that finds open incidents near a
-- new report was keyed on `last_report_at` and limited to `status = 'open'`, so that count
-- moved an index entry, and wrote one more page to the WAL, on every report. Keyed on the
-- hour of the last report instead, the entry moves once an hour per incident; the exact time
-- is still checked on the row.
ALTER TABLE incidents ADD COLUMN active_hour INTEGER NOT NULL DEFAULT 0;
UPDATE incidents SET active_hour = last_report_at / 3600000;
DROP INDEX incidents_open_by_category;
CREATE INDEX incidents_open_by_category ON incidents(category, active_hour) WHERE status = 'open';
