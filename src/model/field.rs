//! Field teams, their devices, and the tasks sent to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::report::DeviceId;
use crate::problem::{ErrorCode, Problem};

/// A named set of devices that can be sent out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub devices: Vec<DeviceId>,
    pub created_at: DateTime<Utc>,
}

/// What a device last said about itself. `lost` comes from its MQTT Last Will.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Online,
    Offline,
    Lost,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Online => "online",
            DeviceState::Offline => "offline",
            DeviceState::Lost => "lost",
        }
    }

    pub fn parse(value: &str) -> Option<DeviceState> {
        [DeviceState::Online, DeviceState::Offline, DeviceState::Lost]
            .into_iter()
            .find(|state| state.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    pub at: DateTime<Utc>,
}

/// A field device as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub device_id: DeviceId,
    pub state: DeviceState,
    pub state_at: DateTime<Utc>,
    pub position: Option<Position>,
    pub teams: Vec<String>,
}

/// Where a task stands; it only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Dispatched,
    Accepted,
    OnSite,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Dispatched => "dispatched",
            TaskStatus::Accepted => "accepted",
            TaskStatus::OnSite => "on_site",
            TaskStatus::Done => "done",
        }
    }

    pub fn parse(value: &str) -> Option<TaskStatus> {
        [
            TaskStatus::Dispatched,
            TaskStatus::Accepted,
            TaskStatus::OnSite,
            TaskStatus::Done,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }

    /// What a device may answer: everything but `dispatched`.
    pub fn parse_answer(value: &str) -> Result<TaskStatus, Problem> {
        Self::parse(value)
            .filter(|status| *status != TaskStatus::Dispatched)
            .ok_or_else(|| {
                Problem::with_field(
                    ErrorCode::InvalidField,
                    "status",
                    "`status` must be accepted, on_site or done",
                )
            })
    }
}

/// A report or an incident sent to a team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    #[serde(skip)]
    pub seq: i64,
    pub id: String,
    pub team_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub status: TaskStatus,
    /// The devices it was sent to.
    pub devices: Vec<DeviceId>,
    pub dispatched_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The frame the devices hold, retained on each device's task topic until it is done.
    #[serde(skip)]
    pub frame: String,
}
