//! Report rows: insert, find a retry by its key, read one, and list with filters.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::conditions::Conditions;
use super::{StoreError, corrupt};
use crate::model::{
    ClientRef, Contact, DeviceId, Location, Photo, Report, ReportFilter, ReportStatus, Source,
    TriageState, ZoneRef,
};

/// A report about to be stored; the store assigns `seq`.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: String,
    pub source: Source,
    pub device_id: Option<DeviceId>,
    pub client_ref: ClientRef,
    pub fingerprint: Vec<u8>,
    pub category: String,
    pub location: Location,
    pub text: String,
    pub contact: Option<Contact>,
    pub media_url: Option<String>,
    pub photo: Option<Photo>,
    pub zones: Vec<ZoneRef>,
    pub in_area: bool,
    pub received_at: DateTime<Utc>,
    /// When acknowledgement and resolution are due, from the category's targets.
    pub acknowledge_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    /// The incident it joins, chosen in the same transaction (and made after the report is
    /// stored, if new).
    pub incident_id: Option<String>,
    /// The SHA-256 of the follow token its reporter gets with the ack.
    pub follow_token_hash: Option<Vec<u8>>,
}

pub(super) const COLUMNS: &str = "seq, id, source, device_id, client_ref, category, lat, lon, text, \
    contact_name, contact_phone, contact_email, media_url, has_photo, zones, in_area, status, \
    version, received_at, updated_at, incident_id, acknowledged_at, closed_at, acknowledge_due_at, \
    resolve_due_at, rejection_reason, public_note, overdue_raised, public_until";
/// Index of the first column after `COLUMNS`.
const AFTER_COLUMNS: usize = 29;
/// The statuses that close a report (`ReportStatus::is_closed`), as an SQL list; a macro so
/// that constant queries can be built with it by `concat!`.
macro_rules! closed_statuses {
    () => {
        "('resolved', 'rejected')"
    };
}
pub(crate) use closed_statuses;

/// The SQL list of closed statuses, for queries built at run time.
pub(crate) const CLOSED_STATUSES: &str = closed_statuses!();

/// Late at the time bound to every `?`: the one condition behind the overdue filter and counts.
pub(crate) const OVERDUE_AT: &str = concat!(
    "((status = 'received' AND acknowledge_due_at <= ?) OR (status NOT IN ",
    closed_statuses!(),
    " AND resolve_due_at <= ?))"
);

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// What became of a new report.
pub enum Inserted {
    /// Stored with its zones and photo, as returned.
    Stored(Report),
    /// Not stored: a report with the same key (source, device, `client_ref`) is, and nothing
    /// was changed. The report is handed back.
    KeyTaken(NewReport),
}

/// Stores a new report with its zones and photo, unless its key is taken. The key's unique
/// index answers that as part of the insert, so a first submission (nearly every one) costs no
/// lookup of its own.
pub fn insert(conn: &Connection, new: NewReport) -> Result<Inserted, StoreError> {
    let contact = new.contact.clone().unwrap_or_default();
    let zones_json =
        serde_json::to_string(&new.zones).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let at = millis(new.received_at);
    let stored = conn
        .prepare_cached(
            "INSERT INTO reports (id, source, device_id, client_ref, submission_hash, category, lat, lon, text,
            contact_name, contact_phone, contact_email, media_url, has_photo, zones, in_area, status,
            version, received_at, updated_at, acknowledge_due_at, resolve_due_at, incident_id,
            follow_token_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 1, ?18, ?18, ?19, ?20, ?21, ?22)
         ON CONFLICT (source, device_id, client_ref) DO NOTHING",
        )?
        .execute(params![
            new.id,
            new.source.as_str(),
            new.device_id.as_ref().map_or("", DeviceId::as_str),
            new.client_ref.as_str(),
            new.fingerprint,
            new.category,
            new.location.lat,
            new.location.lon,
            new.text,
            contact.name,
            contact.phone,
            contact.email,
            new.media_url,
            new.photo.is_some(),
            zones_json,
            new.in_area,
            ReportStatus::Received.as_str(),
            at,
            new.acknowledge_due_at.map(millis),
            new.resolve_due_at.map(millis),
            new.incident_id,
            new.follow_token_hash,
        ])?;
    if stored == 0 {
        return Ok(Inserted::KeyTaken(new));
    }
    let seq = conn.last_insert_rowid();
    insert_zones_and_photo(conn, seq, &new)?;
    Ok(Inserted::Stored(received(seq, new, at)))
}

/// Publishes a report's text in Open311 until `until`, or withdraws it (`None`).
pub(crate) fn set_public_until(
    conn: &Connection,
    report_seq: i64,
    until: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE reports SET public_until = ?2, version = version + 1, updated_at = ?3 WHERE seq = ?1",
    )?
    .execute(params![report_seq, until.map(millis), millis(at)])?;
    Ok(())
}

/// The report stored earlier under the same idempotency key, with its content fingerprint.
pub(crate) fn find_by_key(
    conn: &Connection,
    source: Source,
    device_id: Option<&DeviceId>,
    client_ref: &ClientRef,
) -> Result<Option<(Report, Vec<u8>)>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, submission_hash FROM reports WHERE source = ?1 AND device_id = ?2 AND client_ref = ?3"
    );
    let device = device_id.map_or("", DeviceId::as_str);
    let found = conn
        .prepare_cached(&sql)?
        .query_row(
            params![source.as_str(), device, client_ref.as_str()],
            |row| Ok((report_from_row(row)?, row.get::<_, Vec<u8>>(AFTER_COLUMNS)?)),
        )
        .optional()?;
    Ok(found)
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Report>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], report_from_row)
        .optional()?)
}

/// The photo of a report, if it has one: content type and bytes.
pub(crate) fn photo(conn: &Connection, id: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT p.content_type, p.data FROM report_photos p JOIN reports r ON r.seq = p.report_seq WHERE r.id = ?1",
        )?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(found)
}

/// The report as just stored.
fn received(seq: i64, new: NewReport, at: i64) -> Report {
    Report {
        seq,
        id: new.id,
        source: new.source,
        device_id: new.device_id,
        client_ref: new.client_ref,
        category: new.category,
        location: new.location,
        text: new.text,
        contact: new.contact,
        media_url: new.media_url,
        has_photo: new.photo.is_some(),
        zones: new.zones,
        in_area: new.in_area,
        status: ReportStatus::Received,
        version: 1,
        received_at: from_millis(at),
        updated_at: from_millis(at),
        triage: TriageState {
            acknowledge_due_at: new.acknowledge_due_at,
            resolve_due_at: new.resolve_due_at,
            incident_id: new.incident_id,
            ..TriageState::default()
        },
    }
}

/// The rows beside a new report: the zones it lies in, its photo.
fn insert_zones_and_photo(conn: &Connection, seq: i64, new: &NewReport) -> Result<(), StoreError> {
    let mut zone_insert =
        conn.prepare_cached("INSERT INTO report_zones (report_seq, zone_id) VALUES (?1, ?2)")?;
    for zone in &new.zones {
        zone_insert.execute(params![seq, zone.id])?;
    }
    if let Some(photo) = &new.photo {
        conn.prepare_cached(
            "INSERT INTO report_photos (report_seq, content_type, data) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![seq, photo.content_type, photo.data])?;
    }
    Ok(())
}

/// Reports matching `filter`, newest first, at most `filter.limit`.
pub(crate) fn list(conn: &Connection, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
    let mut conditions = Conditions::default();
    if let Some([min_lon, min_lat, max_lon, max_lat]) = filter.bbox {
        conditions.bind("lon >= ?", min_lon);
        conditions.bind("lat >= ?", min_lat);
        conditions.bind("lon <= ?", max_lon);
        conditions.bind("lat <= ?", max_lat);
    }
    conditions.bind_some(
        "seq IN (SELECT report_seq FROM report_zones WHERE zone_id = ?)",
        filter.zone.clone(),
    );
    conditions.bind_some("category = ?", filter.category.clone());
    conditions.bind_some("status = ?", filter.status.map(|s| s.as_str().to_owned()));
    conditions.bind_some("received_at >= ?", filter.since.map(millis));
    conditions.bind_some("received_at <= ?", filter.until.map(millis));
    conditions.bind_some("incident_id = ?", filter.incident.clone());
    conditions.bind_some(OVERDUE_AT, filter.overdue_at.map(millis));
    conditions.bind_some("seq < ?", filter.before_seq);
    if let Some(closed) = filter.closed {
        let negation = if closed { "" } else { "NOT " };
        conditions.push(format!("status {negation}IN {CLOSED_STATUSES}"));
    }
    let (condition, values) = conditions.into_parts();
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE {condition} ORDER BY seq DESC LIMIT {}",
        filter.limit
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), report_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn report_from_row(row: &Row<'_>) -> rusqlite::Result<Report> {
    let source: String = row.get(2)?;
    let device_id: String = row.get(3)?;
    let zones: String = row.get(14)?;
    let status: String = row.get(16)?;
    let contact = Contact {
        name: row.get(9)?,
        phone: row.get(10)?,
        email: row.get(11)?,
    };
    Ok(Report {
        seq: row.get(0)?,
        id: row.get(1)?,
        source: Source::parse(&source).ok_or_else(|| corrupt(2, "unknown source"))?,
        device_id: (!device_id.is_empty())
            .then(|| DeviceId::parse(&device_id, "device_id"))
            .transpose()
            .map_err(|_| corrupt(3, "invalid device id"))?,
        client_ref: ClientRef::parse(&row.get::<_, String>(4)?, "client_ref")
            .map_err(|_| corrupt(4, "invalid client_ref"))?,
        category: row.get(5)?,
        location: Location {
            lat: row.get(6)?,
            lon: row.get(7)?,
        },
        text: row.get(8)?,
        contact: (contact != Contact::default()).then_some(contact),
        media_url: row.get(12)?,
        has_photo: row.get(13)?,
        zones: serde_json::from_str(&zones).map_err(|_| corrupt(14, "zones are not JSON"))?,
        in_area: row.get(15)?,
        status: ReportStatus::parse(&status).ok_or_else(|| corrupt(16, "unknown status"))?,
        version: row.get(17)?,
        received_at: from_millis(row.get(18)?),
        updated_at: from_millis(row.get(19)?),
        triage: triage_from_row(row)?,
    })
}

fn triage_from_row(row: &Row<'_>) -> rusqlite::Result<TriageState> {
    let at = |column: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(row.get::<_, Option<i64>>(column)?.map(from_millis))
    };
    Ok(TriageState {
        incident_id: row.get(20)?,
        acknowledged_at: at(21)?,
        closed_at: at(22)?,
        acknowledge_due_at: at(23)?,
        resolve_due_at: at(24)?,
        rejection_reason: row.get(25)?,
        public_note: row.get(26)?,
        overdue_raised: row.get(27)?,
        public_until: at(28)?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::{CLOSED_STATUSES, OVERDUE_AT, millis};
    use crate::model::{ReportStatus, TriageState};

    /// The SQL condition is a translation of `TriageState::is_overdue`, the one rule: for every
    /// status and every state of the two targets (none, not yet due, past), both agree.
    #[test]
    fn the_sql_overdue_condition_agrees_with_the_domain_rule_in_every_case() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
        let dues = [
            None,
            Some(now + Duration::minutes(5)),
            Some(now - Duration::minutes(5)),
        ];
        let sql = format!(
            "SELECT coalesce({}, 0) FROM (SELECT ?3 AS status, ?4 AS acknowledge_due_at, ?5 AS resolve_due_at)",
            OVERDUE_AT.replace('?', "?1")
        );
        for status in ReportStatus::ALL {
            for acknowledge_due_at in dues {
                for resolve_due_at in dues {
                    let state = TriageState {
                        acknowledge_due_at,
                        resolve_due_at,
                        ..TriageState::default()
                    };
                    let in_sql: bool = conn
                        .query_row(
                            &sql,
                            rusqlite::params![
                                millis(now),
                                0,
                                status.as_str(),
                                acknowledge_due_at.map(millis),
                                resolve_due_at.map(millis)
                            ],
                            |row| row.get(0),
                        )
                        .unwrap();
                    assert_eq!(
                        in_sql,
                        state.is_overdue(status, now),
                        "{status:?}, acknowledge due {acknowledge_due_at:?}, resolve due {resolve_due_at:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_sql_list_of_closed_statuses_is_the_domain_rule() {
        let closed: Vec<String> = ReportStatus::ALL
            .iter()
            .filter(|status| status.is_closed())
            .map(|status| format!("'{}'", status.as_str()))
            .collect();

        assert_eq!(CLOSED_STATUSES, format!("({})", closed.join(", ")));
    }
}
