//! Reports published by devices on `<prefix>/reports/<device_id>`, answered on their inbox.

use rumqttc::{Publish, QoS};
use tokio::sync::OwnedSemaphorePermit;

use super::MqttLink;
use crate::channels::frames::{self, ServerFrame};
use crate::problem::{ErrorCode, Problem};
use crate::reports::{DeviceId, Intake, Origin, RawSubmission, Receipt, Source};

/// Stores one report and answers the device. The PUBLISH is acknowledged after the answer is
/// settled, except on an internal failure: then the broker will deliver it again.
pub(super) async fn handle(
    link: MqttLink,
    intake: Intake,
    publish: Publish,
    max_payload: usize,
    _permit: OwnedSemaphorePermit,
) {
    let device = link
        .topics
        .report_device(&publish.topic)
        .and_then(|device| DeviceId::parse(device, "device_id").ok());
    let Some(device) = device else {
        // Without a valid device id there is no inbox to answer on; drop it.
        tracing::debug!("ignoring a report published on a topic without a valid device id");
        let _ = link.client.try_ack(&publish);
        return;
    };
    let outcome = submit(&intake, &device, &publish.payload, max_payload).await;
    let retry_later = matches!(&outcome, Err(problem) if problem.code == ErrorCode::Internal);
    let client_ref = frames::client_ref_hint(&publish.payload);
    send_to_device(&link, &device, &frames::answer(outcome, client_ref));
    if !retry_later {
        let _ = link.client.try_ack(&publish);
    }
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

fn send_to_device(link: &MqttLink, device: &DeviceId, frame: &ServerFrame) {
    let topic = link.topics.device_inbox(device);
    if link
        .client
        .try_publish(topic, QoS::AtLeastOnce, false, frame.to_json())
        .is_err()
    {
        tracing::warn!("MQTT request queue full; an answer to a device was dropped");
    }
}
