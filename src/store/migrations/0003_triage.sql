-- Triage: where each report stands, when its steps are due, what happened to it, and what its
-- reporter was told.
ALTER TABLE reports ADD COLUMN incident_id TEXT;
ALTER TABLE reports ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE reports ADD COLUMN closed_at INTEGER;
ALTER TABLE reports ADD COLUMN acknowledge_due_at INTEGER;
ALTER TABLE reports ADD COLUMN resolve_due_at INTEGER;
-- Overdue alerts already raised: 1 = acknowledgement, 2 = resolution.
ALTER TABLE reports ADD COLUMN overdue_raised INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN rejection_reason TEXT;
ALTER TABLE reports ADD COLUMN public_note TEXT;
ALTER TABLE reports ADD COLUMN personal_data_purged_at INTEGER;
CREATE INDEX reports_by_incident ON reports(incident_id);
-- The overdue scheduler walks these in due order.
CREATE INDEX reports_acknowledge_due ON reports(acknowledge_due_at) WHERE status = 'received';
CREATE INDEX reports_resolve_due ON reports(resolve_due_at)
    WHERE status NOT IN ('resolved', 'rejected');

-- Every change to a report, with the note for the reporter and the note for operators only.
CREATE TABLE report_history (
    seq           INTEGER PRIMARY KEY,
    report_seq    INTEGER NOT NULL REFERENCES reports(seq) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,   -- an account, a device (device:<id>) or system
    kind          TEXT NOT NULL,   -- status, dispatch, task, incident, escalate
    status        TEXT,
    public_note   TEXT,
    internal_note TEXT,
    detail        TEXT             -- JSON
) STRICT;
CREATE INDEX report_history_by_report ON report_history(report_seq);

-- What each reporter device was told, in order; `seq` is the cursor it resumes after.
CREATE TABLE report_updates (
    seq        INTEGER PRIMARY KEY,
    report_seq INTEGER NOT NULL REFERENCES reports(seq) ON DELETE CASCADE,
    device_id  TEXT NOT NULL,
    frame      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    -- For reports that came over MQTT: 1 once the broker echoed the update back, so it holds it
    -- for the device's session; the hub republishes the others when it reconnects.
    confirmed  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX report_updates_unconfirmed ON report_updates(seq) WHERE confirmed = 0;
CREATE INDEX report_updates_by_device ON report_updates(device_id, seq);

-- Reports of one category close in space and time, handled together.
CREATE TABLE incidents (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL,
    status      TEXT NOT NULL,     -- open, resolved, merged
    lat         REAL NOT NULL,     -- centre of its reports
    lon         REAL NOT NULL,
    report_count INTEGER NOT NULL,
    open_count  INTEGER NOT NULL,
    last_report_at INTEGER NOT NULL,
    merged_into TEXT,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX incidents_open_by_category ON incidents(category, last_report_at) WHERE status = 'open';

-- Field teams and the devices they carry.
CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE team_devices (
    team_id   TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    PRIMARY KEY (team_id, device_id)
) STRICT, WITHOUT ROWID;

-- The last state and position each device published.
CREATE TABLE devices (
    device_id   TEXT PRIMARY KEY,
    state       TEXT NOT NULL,     -- online, lost, offline
    state_at    INTEGER NOT NULL,
    lat         REAL,
    lon         REAL,
    accuracy_m  REAL,
    position_at INTEGER
) STRICT;

-- A report or incident sent to a team, and what its devices answered.
CREATE TABLE tasks (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    team_id       TEXT NOT NULL REFERENCES teams(id),
    report_id     TEXT,
    incident_id   TEXT,
    note          TEXT,
    status        TEXT NOT NULL,   -- dispatched, accepted, on_site, done
    devices       TEXT NOT NULL,   -- JSON: the devices it was sent to
    frame         TEXT NOT NULL,   -- the task frame as the devices hold it, retained
    dispatched_by TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_open ON tasks(seq) WHERE status != 'done';
CREATE TABLE task_answers (
    task_seq  INTEGER NOT NULL REFERENCES tasks(seq) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    status    TEXT NOT NULL,
    note      TEXT,
    at        INTEGER NOT NULL
) STRICT;
