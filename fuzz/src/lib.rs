//! What the fuzz targets share: the hub's settings as a fresh office has them, built once.

use std::sync::LazyLock;

use chrono::{DateTime, TimeZone, Utc};
use vedetta::reports::{
    CategoryCatalog, RawSubmission, Submission, SubmissionLimits, default_categories,
};
use vedetta::zones::{ZoneIndex, demo_zone_sets};

/// `config.notices.max_import_bytes` by default.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// The categories a new office starts with.
pub static CATALOG: LazyLock<CategoryCatalog> =
    LazyLock::new(|| CategoryCatalog::new(default_categories()));

/// `config.intake` by default.
pub static LIMITS: LazyLock<SubmissionLimits> = LazyLock::new(|| SubmissionLimits {
    max_text_chars: 2000,
    max_photo_bytes: 2 * 1024 * 1024,
});

/// The embedded demo district and its municipalities, as a new hub loads them.
pub static ZONES: LazyLock<ZoneIndex> = LazyLock::new(|| {
    let sets = demo_zone_sets().expect("the embedded demo zones are valid");
    ZoneIndex::new(
        sets.into_iter()
            .flat_map(|(_, records)| records.into_iter().map(|record| record.zone))
            .collect(),
    )
});

/// A fixed clock, so that a crash found today still reproduces next year.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap()
}

/// What intake does with a decoded report before it reaches the store.
pub fn check_submission(raw: RawSubmission) {
    if let Ok(submission) = Submission::parse(raw, &CATALOG, &LIMITS) {
        let _ = submission.fingerprint();
        let _ = ZONES.zone_refs(submission.location);
    }
}
