//! A report as an HTTP body or an MQTT payload: JSON into a `RawSubmission`, then every check
//! intake makes; and the lenient `client_ref` read MQTT uses to label its answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedetta::channels::frames::client_ref_hint;
use vedetta::problem::Problem;
use vedetta::reports::RawSubmission;

fuzz_target!(|data: &[u8]| {
    let _ = client_ref_hint(data);
    match Problem::parse_json::<RawSubmission>(data) {
        Ok(raw) => vedetta_fuzz::check_submission(raw),
        Err(problem) => {
            let _ = problem.nested_in("report");
        }
    }
});
