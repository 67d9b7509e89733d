//! Reports published by devices on `<prefix>/reports/<device_id>`, answered on their inbox.

use rumqttc::Publish;

use super::MqttLink;
use super::handled::{Handled, Reply};
use crate::channels::frames;
use crate::problem::{ErrorCode, Problem};
use crate::reports::{DeviceId, Intake, Origin, RawSubmission, Receipt, Source};

/// Stores one report and settles the answer to the device. An internal failure is retried
/// (the device hears nothing until it is settled).
pub(super) async fn handle(
    link: &MqttLink,
    intake: &Intake,
    publish: &Publish,
    max_payload: usize,
) -> Handled {
    let Some(segment) = link.topics.report_device(&publish.topic) else {
        return Handled::Settled(None);
    };
    let (inbox, outcome) = match DeviceId::parse(segment, "device_id") {
        Ok(device) => (
            link.topics.device_inbox(&device),
            submit(intake, &device, &publish.payload, max_payload).await,
        ),
        // The device still hears why, on the inbox its own segment names, unless that is
        // too long to be any device's topic.
        Err(_) if segment.len() > MAX_ANSWERED_SEGMENT => return Handled::Settled(None),
        Err(problem) => (link.topics.inbox_of(segment), Err(problem)),
    };
    if matches!(&outcome, Err(problem) if problem.code == ErrorCode::Internal) {
        return Handled::Retry;
    }
    let client_ref = frames::client_ref_hint(&publish.payload);
    Handled::Settled(Some(Reply {
        topic: inbox,
        retain: false,
        payload: frames::answer(outcome, client_ref).to_json().into_bytes(),
    }))
}

/// Longest device segment of a report topic that is answered when it is no valid device id.
const MAX_ANSWERED_SEGMENT: usize = 256;

async fn submit(
    intake: &Intake,
    device: &DeviceId,
    payload: &[u8],
    max_payload: usize,
) -> Result<Receipt, Problem> {
    if payload.len() > max_payload {
        return Err(frames::too_large(payload.len(), max_payload));
    }
    let raw: RawSubmission = Problem::parse_json(payload)?;
    let origin = Origin {
        source: Source::Mqtt,
        peer_ip: None,
        device_id: Some(device.clone()),
    };
    intake.submit(origin, raw).await
}
