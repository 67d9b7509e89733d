-- Staff accounts. Passwords are argon2id PHC strings; roles are viewer, operator, approver, admin.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Login tokens, stored only as SHA-256 hashes.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

-- Emergency notices. `thread_id` is the first notice of an Alert -> Update -> Cancel chain.
CREATE TABLE notices (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    thread_id        TEXT NOT NULL,
    state            TEXT NOT NULL,   -- draft, rejected, published, superseded, cancelled, expired
    origin           TEXT NOT NULL,   -- local, imported
    msg_type         TEXT NOT NULL,   -- Alert, Update, Cancel
    status           TEXT NOT NULL,   -- Actual, Exercise, Test
    content          TEXT NOT NULL,   -- JSON: the CAP content as drafted
    covered_zones    TEXT NOT NULL,   -- JSON: [{id, level, name}] the area covers
    references_id    TEXT,            -- the notice an Update or Cancel replaces
    identifier       TEXT NOT NULL,   -- CAP identifier
    sender           TEXT NOT NULL,   -- CAP sender
    sent             INTEGER,         -- CAP sent, set on publication (imported: as received)
    expires_at       INTEGER NOT NULL,
    author           TEXT NOT NULL,   -- who drafted (or imported) it
    editors          TEXT NOT NULL,   -- JSON: everyone who changed it; none of them may approve
    approver         TEXT,
    rejection_reason TEXT,
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX notices_by_state ON notices(state, expires_at);
CREATE INDEX notices_by_thread ON notices(thread_id);
CREATE UNIQUE INDEX notices_by_cap_key ON notices(sender, identifier);

-- Everything sent to notice subscribers, in order. `seq` is the cursor a WebSocket client
-- resumes from; `frame` holds the exact bytes that went out on WebSocket and MQTT.
CREATE TABLE notice_events (
    seq       INTEGER PRIMARY KEY,
    notice_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    kind      TEXT NOT NULL,   -- published, expired
    zones     TEXT NOT NULL,   -- JSON: ids of the zones it concerns (old and new, for an update)
    frame     BLOB NOT NULL,
    at        INTEGER NOT NULL
) STRICT;

-- How far each notice got: WebSocket sessions written to, MQTT zone topics the broker routed.
CREATE TABLE notice_deliveries (
    notice_id   TEXT PRIMARY KEY,
    ws_sessions INTEGER NOT NULL,
    mqtt_topics INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Who did what, when. Append-only: the triggers refuse every change to a written row.
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,     -- a user name, or "system"
    action  TEXT NOT NULL,
    subject TEXT,              -- e.g. notice:<id>, user:<name>
    detail  TEXT               -- JSON
) STRICT;
CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
