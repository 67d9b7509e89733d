//! Field teams: named sets of devices, tasks dispatched to them over MQTT, their answers,
//! and each device's state and position.

mod devices;
mod dispatch;
use crate::model::field as model;
mod owed;
mod teams;

pub use devices::{RawPosition, RawState};
pub use dispatch::{DispatchRequest, RawAnswer};
pub use model::{Device, DeviceState, Position, Task, TaskStatus, Team};
pub use teams::RawTeam;
