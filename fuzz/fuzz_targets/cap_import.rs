//! A CAP 1.2 alert from another authority, through every step `Notices::import` takes before
//! the store: the XML reader, the content checks, and the zones its area covers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedetta::notices::{ImportRules, NoticeArea, NoticeContent, parse_cap};
use vedetta_fuzz::{MAX_IMPORT_BYTES, ZONES, now};

fuzz_target!(|data: &[u8]| {
    let rules = ImportRules {
        max_bytes: MAX_IMPORT_BYTES,
        default_validity: chrono::Duration::hours(24),
        now: now(),
    };
    let Ok(mut alert) = parse_cap(data, rules, &ZONES) else {
        return;
    };
    let raw = std::mem::take(&mut alert.raw);
    let Ok(content) = NoticeContent::parse_received(raw, now(), &ZONES, alert.msg_type) else {
        return;
    };
    let area = NoticeArea::of(&content.area, &ZONES);
    let _ = area.covered_zones(&ZONES);
    let _ = area.bounding_rect();
});
