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
    let device = link
        .topics
        .report_device(&publish.topic)
        .and_then(|device| DeviceId::parse(device, "device_id").ok());
    let Some(device) = device else {
        // Without a valid device id there is no inbox to answer on; drop it.
        tracing::debug!("ignoring a report published on a topic without a valid device id");
        return Handled::Settled(None);
    };
    let outcome = submit(intake, &device, &publish.payload, max_payload).await;
    if matches!(&outcome, Err(problem) if problem.code == ErrorCode::Internal) {
        return Handled::Retry;
    }
    let client_ref = frames::client_ref_hint(&publish.payload);
    Handled::Settled(Some(Reply {
        topic: link.topics.device_inbox(&device),
        retain: false,
        payload: frames::answer(outcome, client_ref).to_json().into_bytes(),
    }))
}

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
