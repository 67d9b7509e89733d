-- Zones: administrative areas imported from GeoJSON, one row per zone.
CREATE TABLE zones (
    id          TEXT PRIMARY KEY,
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    parent_id   TEXT,
    geometry    TEXT NOT NULL,      -- GeoJSON geometry (Polygon or MultiPolygon), WGS84
    min_lon     REAL NOT NULL,
    min_lat     REAL NOT NULL,
    max_lon     REAL NOT NULL,
    max_lat     REAL NOT NULL,
    imported_at INTEGER NOT NULL    -- unix milliseconds
) STRICT;
CREATE INDEX zones_by_level ON zones(level);

-- Reports from citizens and field teams. `seq` orders them and pages through them.
CREATE TABLE reports (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    source          TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    client_ref      TEXT NOT NULL,
    submission_hash BLOB NOT NULL,
    category        TEXT NOT NULL,
    lat             REAL NOT NULL,
    lon             REAL NOT NULL,
    text            TEXT NOT NULL,
    contact_name    TEXT,
    contact_phone   TEXT,
    contact_email   TEXT,
    media_url       TEXT,
    has_photo       INTEGER NOT NULL,
    zones           TEXT NOT NULL,  -- JSON array of {id, level, name} at intake time
    in_area         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    version         INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (source, device_id, client_ref)
) STRICT;
CREATE INDEX reports_by_received ON reports(received_at);
CREATE INDEX reports_by_position ON reports(lon, lat);

CREATE TABLE report_zones (
    report_seq INTEGER NOT NULL REFERENCES reports(seq) ON DELETE CASCADE,
    zone_id    TEXT NOT NULL,
    PRIMARY KEY (zone_id, report_seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE report_photos (
    report_seq   INTEGER PRIMARY KEY REFERENCES reports(seq) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL
) STRICT;

-- A row the readiness probe rewrites to prove the database takes writes.
CREATE TABLE health_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
) STRICT;
