//! The Open311 `POST requests` form. Input before the first newline, if any, is the
//! `Idempotency-Key` header (a form body never holds a raw newline); the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedetta::http::parse_request_form;

fuzz_target!(|data: &[u8]| {
    let (key, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (std::str::from_utf8(&data[..at]).ok(), &data[at + 1..]),
        None => (None, data),
    };
    if let Ok(raw) = parse_request_form(body, key) {
        vedetta_fuzz::check_submission(raw);
    }
});
