//! Device presence and position, as devices publish them (retained) over MQTT.

use std::sync::Arc;

use serde::Deserialize;

use super::model::{Device, DeviceState, Position};
use crate::auth::{Action, Staff};
use crate::bus::Event;
use crate::model::{DeviceId, Location};
use crate::problem::{ErrorCode, Problem};
use crate::store::field as field_rows;
use crate::triage::Triage;

/// `<prefix>/devices/<id>/state` (`schemas/mqtt-device-state.schema.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub state: String,
}

/// `<prefix>/devices/<id>/position` (`schemas/mqtt-device-position.schema.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPosition {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

impl Triage {
    /// Records what a device says about itself; staff hear of it only when it changed.
    pub async fn device_state(&self, device: DeviceId, raw: RawState) -> Result<(), Problem> {
        let state = DeviceState::parse(&raw.state).ok_or_else(|| {
            Problem::with_field(
                ErrorCode::InvalidField,
                "state",
                "`state` must be online, offline or lost",
            )
        })?;
        let at = self.now();
        self.store()
            .write(move |ctx| {
                if field_rows::save_state(ctx.conn(), &device, state, at)? {
                    emit_device(ctx, &device)?;
                }
                Ok(())
            })
            .await
    }

    pub async fn device_position(&self, device: DeviceId, raw: RawPosition) -> Result<(), Problem> {
        let location = Location::parse(raw.lat, raw.lon, "lat", "lon")?;
        let accuracy_m = match raw.accuracy_m {
            Some(metres) if !(metres.is_finite() && metres >= 0.0) => {
                return Err(Problem::with_field(
                    ErrorCode::InvalidField,
                    "accuracy_m",
                    "`accuracy_m` must be a distance in metres, 0 or more",
                ));
            }
            accuracy => accuracy,
        };
        let position = Position {
            lat: location.lat,
            lon: location.lon,
            accuracy_m,
            at: self.now(),
        };
        self.store()
            .write(move |ctx| {
                field_rows::save_position(ctx.conn(), &device, &position)?;
                emit_device(ctx, &device)
            })
            .await
    }

    pub async fn devices(&self, staff: &Staff) -> Result<Vec<Device>, Problem> {
        staff.require(Action::Read)?;
        Ok(self.store().read(field_rows::devices).await?)
    }

    pub async fn device(&self, staff: &Staff, id: &str) -> Result<Device, Problem> {
        staff.require(Action::Read)?;
        let device = DeviceId::parse(id, "device_id")?;
        self.store()
            .read(move |conn| {
                field_rows::device(conn, &device)?.ok_or_else(|| {
                    Problem::new(
                        ErrorCode::NotFound,
                        format!(
                            "device {} has never reported its state or position",
                            device.as_str()
                        ),
                    )
                })
            })
            .await
    }
}

fn emit_device(ctx: &mut crate::store::WriteCtx<'_>, device: &DeviceId) -> Result<(), Problem> {
    if let Some(device) = field_rows::device(ctx.conn(), device)? {
        ctx.emit(Event::Device(Arc::new(device)));
    }
    Ok(())
}
