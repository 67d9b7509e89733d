//! A WebSocket client frame; a report frame goes on through intake's checks, and every
//! refusal is turned into the error frame the session sends back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedetta::channels::frames::{ClientFrame, ServerFrame, parse_client_frame};

fuzz_target!(|data: &[u8]| {
    match parse_client_frame(data) {
        Ok(ClientFrame::Report(raw)) => vedetta_fuzz::check_submission(raw),
        Ok(_) => {}
        Err(refusal) => {
            let _ = ServerFrame::refused(refusal).to_json();
        }
    }
});
